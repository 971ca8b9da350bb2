import ArgumentParser
import WardServer
import WardStorage

/// `ward keys status|rotate`: the tenants' data keys, which seal their documents and their
/// patients' identifying fields, each wrapped by the node's master key (`WARD_SECRET_KEY`).
/// Rotating the master key needs no downtime: put the new key in `WARD_SECRET_KEY` and the old
/// one in `WARD_SECRET_PREVIOUS_KEYS` on every node, run `ward keys rotate`, and once `status`
/// shows every key under the current one the old key can go. Data is never re-encrypted: only
/// the data keys are rewrapped.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage the tenants' data keys and the master key that wraps them.",
                                                    subcommands: [Status.self, Rotate.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which master key wraps each tenant's data key; exits 1 unless the current one wraps all.")

        func run() async throws {
            let (lines, stale) = try await NodeBootstrap.withServices(label: "ward.keys") { services in
                let keys = TenantKeys(storage: services.storage, settings: services.settings)
                let slugs = Dictionary(try await services.storage.tenants.list().map { ($0.id, $0.slug) }, uniquingKeysWith: { first, _ in first })
                var lines: [String] = [], stale = 0
                for (tenantID, wrappedBy) in try await keys.status() {
                    let name = slugs[tenantID] ?? tenantID
                    switch wrappedBy {
                    case 0: lines.append("\(name): current master key")
                    case let index?:
                        lines.append("\(name): previous master key \(index) (run `ward keys rotate`)")
                        stale += 1
                    case nil:
                        lines.append("\(name): no master key this node holds opens it")
                        stale += 1
                    }
                }
                return (lines, stale)
            }
            lines.forEach { print($0) }
            print(lines.isEmpty ? "no tenant has a data key yet" : "\(lines.count - stale) of \(lines.count) under the current master key")
            if stale > 0 { throw ExitCode(1) }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrap every tenant's data key with the current WARD_SECRET_KEY (the old key in WARD_SECRET_PREVIOUS_KEYS)."
        )

        func run() async throws {
            let count = try await NodeBootstrap.withServices(label: "ward.keys") { services in
                try await TenantKeys(storage: services.storage, settings: services.settings).rewrapAll()
            }
            print("rewrapped the data keys of \(count) tenant\(count == 1 ? "" : "s") with the current master key")
        }
    }
}
