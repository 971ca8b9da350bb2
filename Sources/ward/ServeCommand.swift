import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import WardCore
import WardServer
import CWardMemory
import Foundation

/// `ward serve`: migrate the control plane and tenants, then run this node's role until
/// SIGTERM/SIGINT: HTTP (finishing in-flight requests), job workers (letting running jobs finish
/// and giving back the rest) and the scheduler, with every module's background loops and the
/// databases, all in one service group and within the shutdown timeout.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the server.")

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case all, api, worker, scheduler
    }

    @Option(help: "What this node runs: all (HTTP, job workers and the scheduler; the default), api, worker or scheduler.")
    var role: Role = .all

    func run() async throws {
        Self.returnLargeBuffers()
        let settings = try await NodeBootstrap.settings(logToStandardError: false)
        let logger = Logger(label: "ward")
        let services = try await WardApplication.services(
            settings: settings, metrics: WardMetrics(), logger: logger, accessLog: AccessLog(level: settings.loggingLevel)
        )
        let storage = services.storage
        let group: ServiceGroup
        do {
            let report = try await WardApplication.migrate(services)
            for entry in report where !entry.applied.isEmpty {
                logger.info("migrations applied", metadata: [
                    "target": "\(entry.target)", "versions": "\(entry.applied.map(\.version))",
                ])
            }
            // Shut down in reverse: what the role runs, then the modules' loops (the audit
            // journal's last move), then storage.
            var nodeServices: [any Service] = [StorageService(storage: storage)]
            if let replicas = storage.replicas { nodeServices.append(ReplicaMonitor(replicas: replicas)) }
            nodeServices += services.modules.flatMap { $0.services() }
            if role == .all || role == .api {
                nodeServices.append(WardApplication.buildApplication(services, router: try WardApplication.buildRouter(services)))
            }
            if role == .all || role == .worker { nodeServices.append(NodeJobs.worker(services)) }
            if role == .all || role == .scheduler { nodeServices.append(try NodeJobs.scheduler(services)) }
            group = ServiceGroup(configuration: .init(
                services: nodeServices,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            ).withShutdownBound(settings.shutdownTimeout))
        } catch {
            await storage.shutdown()
            throw error
        }
        logger.info("ward serving", metadata: [
            "address": "\(settings.httpHost):\(settings.httpPort)", "role": "\(role.rawValue)",
            "database": "\(settings.usesPostgres ? "postgres" : "sqlite")",
        ])
        do {
            try await group.run()
        } catch {
            await storage.shutdown()
            throw error
        }
        await storage.shutdown()
        logger.info("ward stopped")
    }

    /// Buffers of 128 KiB and more (an object's 5 MiB parts, PDFs, emails with attachments)
    /// are mapped and unmapped rather than taken from the heap. glibc otherwise raises its
    /// threshold to the size of the first such buffer freed, after which they come from the
    /// heap and their memory stays with the process: measured with 16 concurrent 20 MiB
    /// uploads to S3, resident memory grew by 78 MiB that way and by 19 MiB with the fixed
    /// threshold (docs/performance.md). `MALLOC_MMAP_THRESHOLD_` in the environment wins.
    static func returnLargeBuffers() {
        if ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil {
            _ = ward_fix_mmap_threshold(128 * 1024)
        }
    }
}

extension ServiceGroupConfiguration {
    /// The configuration with graceful shutdown bounded: after `limit`, remaining work is
    /// cancelled so the process still exits.
    func withShutdownBound(_ limit: Duration) -> ServiceGroupConfiguration {
        var configuration = self
        configuration.maximumGracefulShutdownDuration = .init(limit)
        configuration.maximumCancellationDuration = .seconds(5)
        return configuration
    }

}
