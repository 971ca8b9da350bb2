import ArgumentParser
import WardCore

/// `ward config`: the effective configuration, secrets masked, and whether production would
/// accept it.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Print the effective configuration, secrets masked.")

    func run() async throws {
        let settings: WardSettings
        do { settings = try await WardSettings.load() } catch let error as SettingsError { throw CommandFailure(error.description) }
        let rows = settings.printable()
        let width = rows.map(\.setting.environmentVariable.count).max() ?? 0
        for row in rows {
            let name = row.setting.environmentVariable.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(name)  \(row.value)  (\(row.source))")
        }
        let problems = settings.insecureSettings()
        if problems.isEmpty {
            print("\nproduction check: passes")
        } else {
            print("\nproduction check: WARD_ENV=production would refuse to start:")
            for problem in problems { print("  - \(problem)") }
        }
    }
}
