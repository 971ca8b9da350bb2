import ArgumentParser
import Logging
import WardCore
import WardServer
import WardStorage

/// `ward check --deploy`: every production check as a line with PASS or FAIL, exiting 1 when
/// any fails, for a deploy pipeline's gate. Reads the settings as given (without refusing
/// them, which would hide the rest) and, on PostgreSQL, the serving role; changes nothing.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check this node's configuration for a production deployment.")
    @Flag(help: "Run the deployment checks (the only checks so far).") var deploy = false

    func run() async throws {
        guard deploy else { throw ValidationError("say what to check: --deploy") }
        let settings: WardSettings
        do { settings = try await WardSettings.load() } catch let error as SettingsError { throw CommandFailure(error.description) }
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: .error, sink: StandardOutputSink.standardError) }
        var storage: Storage?
        if settings.usesPostgres {
            storage = try? await Storage(settings: try settings.withResolvedSecretKey(), platformMigrations: [], tenantMigrations: [],
                                         logger: Logger(label: "ward.check"))
        }
        let findings = await DeployCheck.run(settings, storage: storage)
        await storage?.shutdown()
        for finding in findings {
            print("\(finding.passed ? "PASS" : "FAIL")  \(finding.name): \(finding.detail)")
        }
        let failed = findings.filter { !$0.passed }.count
        print(failed == 0 ? "\ndeploy check: all \(findings.count) passed" : "\ndeploy check: \(failed) of \(findings.count) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
