import Foundation
import Logging
import WardCore
import WardServer
import WardStorage

/// Start-up shared by the commands: settings, the global logging bootstrap (once per
/// process), and storage.
enum NodeBootstrap {
    /// Loads settings, refusing insecure production settings, and bootstraps JSON logging to
    /// standard output (`serve`) or standard error (commands whose output is for people).
    static func settings(logToStandardError: Bool) async throws -> WardSettings {
        let settings: WardSettings
        do {
            settings = try await WardSettings.load()
            try settings.enforceProductionPolicy()
        } catch let error as SettingsError {
            throw CommandFailure(error.description)
        }
        let level = settings.loggingLevel
        let sink: StandardOutputSink = logToStandardError ? .standardError : .standardOutput
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level, sink: sink) }
        do {
            return try settings.withResolvedSecretKey()
        } catch let error as SettingsError {
            throw CommandFailure(error.description)
        }
    }

    /// Opens storage with every module's tenant migrations.
    static func storage(_ settings: WardSettings, logger: Logger) async throws -> Storage {
        try await Storage(
            settings: settings, platformMigrations: WardApplication.platformMigrations,
            tenantMigrations: WardApplication.tenantMigrations, logger: logger
        )
    }
}

extension NodeBootstrap {
    /// Runs `body` with a node's services (storage migrated first), turning domain errors into
    /// one clear message and closing storage whatever happens.
    static func withServices<Result>(label: String, _ body: (WardServices) async throws -> Result) async throws -> Result {
        let settings = try await settings(logToStandardError: true)
        let services = try await WardApplication.services(
            settings: settings, metrics: WardMetrics(), logger: Logger(label: label), accessLog: AccessLog(level: settings.loggingLevel, sink: StandardOutputSink.standardError)
        )
        do {
            try await WardApplication.migrate(services)
            let result = try await body(services)
            // What the command audited into the journal reaches its trails now, not at the
            // next `serve`.
            await services.audit.moveJournal(everything: false, tenants: services.storage.tenants)
            await services.storage.shutdown()
            return result
        } catch {
            await services.storage.shutdown()
            switch error {
            case let problem as any ProblemConvertible:
                throw CommandFailure([problem.problem.title, problem.problem.detail].compactMap { $0 }.joined(separator: ": "))
            case let failure as MigrationError:
                throw CommandFailure(failure.description)
            default:
                throw error
            }
        }
    }
}

/// A failure reported to the operator as one clear message and a non-zero exit.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension WardSettings {
    /// The configured log level (validated when settings load), for every logger of the node.
    var loggingLevel: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }
}
