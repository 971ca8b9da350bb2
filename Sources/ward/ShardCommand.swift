import ArgumentParser
import Foundation
import Logging
import WardCore
import WardStorage

/// `ward shard add|list|close|open`: the PostgreSQL clusters tenants are placed on.
struct ShardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard", abstract: "Register PostgreSQL clusters as shards, list them, close or open them to new tenants.",
        subcommands: [Add.self, List.self, Close.self, Open.self]
    )

    /// Runs `body` with the node's shards, the control plane migrated.
    static func withShards<Result>(_ body: (ShardSet, Storage) async throws -> Result) async throws -> Result {
        let settings = try await NodeBootstrap.settings(logToStandardError: true)
        let storage = try await NodeBootstrap.storage(settings, logger: Logger(label: "ward.shard"))
        do {
            try await storage.controlPlaneMigrator.apply()
            guard let shards = storage.tenants.shards else { throw CommandFailure(ShardError.sqlite.description) }
            let result = try await body(shards, storage)
            await storage.shutdown()
            return result
        } catch {
            await storage.shutdown()
            throw error
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register another PostgreSQL cluster: new tenants may be placed on it, and tenants moved to it.",
            discussion: """
                The URLs are kept in the control plane sealed under WARD_SECRET_KEY (every node needs the same key to open \
                them). Give --owner-url where another role owns the schemas, as DATABASE_OWNER_URL does for the node's own \
                database (deploy/postgres/roles.sql sets both roles up on the new cluster).
                """
        )
        @Argument(help: "The shard's name: a-z, 0-9, - and _, starting with a letter.")
        var name: String
        @Option(help: "postgres://user:password@host:port/database[?sslmode=verify-full&sslrootcert=…] of the serving role.")
        var url: String
        @Option(help: "The schema owner's URL on that cluster, when another role than the serving one owns the schemas.")
        var ownerUrl: String?
        @Option(help: "Connections in each node's pool to it (WARD_DB_POOL_SIZE when absent).")
        var poolSize: Int?
        @Option(help: "What the cluster is, for operators.")
        var description = ""

        func run() async throws {
            try await ShardCommand.withShards { shards, _ in
                do {
                    let record = try await shards.add(name: name, url: url, ownerURL: ownerUrl, poolSize: poolSize, description: description)
                    print("shard \(record.name) added; new tenants may be placed on it")
                } catch let error as ShardError {
                    throw CommandFailure(error.description)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List shards: name, live tenants, whether they take new tenants, pool size.")
        func run() async throws {
            try await ShardCommand.withShards { shards, storage in
                let tenants = try await storage.tenants.list().filter { $0.status != .deleted }
                for record in try await shards.records() {
                    let count = tenants.filter { $0.shard == record.name }.count
                    let pool = record.poolSize.map(String.init) ?? "default"
                    print("\(record.name)\t\(count) tenants\t\(record.acceptsTenants ? "open" : "closed")\tpool \(pool)\t\(record.description)")
                }
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Place no new tenants on a shard (its tenants stay and can be moved off).")
        @Argument var name: String
        func run() async throws {
            try await ShardCommand.withShards { shards, _ in
                do { try await shards.setAcceptsTenants(name, false) } catch let error as ShardError { throw CommandFailure(error.description) }
                print("shard \(name) takes no new tenants")
            }
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let the placement policy put new tenants on a shard again.")
        @Argument var name: String
        func run() async throws {
            try await ShardCommand.withShards { shards, _ in
                do { try await shards.setAcceptsTenants(name, true) } catch let error as ShardError { throw CommandFailure(error.description) }
                print("shard \(name) takes new tenants")
            }
        }
    }
}
