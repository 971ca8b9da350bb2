import Foundation
import Testing
@testable import WardCore

@Suite("Settings")
struct SettingsTests {
    @Test("defaults give a local SQLite node on 127.0.0.1:8080")
    func defaults() async throws {
        let settings = try await WardSettings.load(environment: [:])
        #expect(settings.httpHost == "127.0.0.1")
        #expect(settings.httpPort == 8080)
        #expect(settings.dataDirectory == "./var")
        #expect(settings.usesPostgres == false)
        #expect(settings.bodyLimit == 10 * 1024 * 1024)
        #expect(settings.databaseConnectTimeout == .seconds(10))
        #expect(settings.databaseStatementTimeout == .seconds(30))
    }

    @Test("the environment overrides the configuration file, which overrides defaults")
    func layering() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ward-config-\(UUID()).json")
        try Data(#"{"ward": {"http": {"port": 9000}, "log": {"level": "warning"}}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let settings = try await WardSettings.load(environment: ["WARD_CONFIG_FILE": file.path, "WARD_HTTP_PORT": "9100"])

        #expect(settings.httpPort == 9100)
        #expect(settings.logLevel == "warning")
    }

    @Test("a secret can come from a <VAR>_FILE path")
    func secretFromFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ward-secret-\(UUID())")
        let key = String(repeating: "k", count: 40)
        try Data((key + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let settings = try await WardSettings.load(environment: ["WARD_SECRET_KEY_FILE": file.path])

        #expect(settings.secretKey == key)
    }

    @Test("an invalid value names its variable")
    func invalidValue() async throws {
        await #expect(throws: SettingsError.invalid(.httpPort, "must be a whole number from 0 to 65535")) {
            _ = try await WardSettings.load(environment: ["WARD_HTTP_PORT": "eighty"])
        }
        await #expect(throws: SettingsError.self) {
            _ = try await WardSettings.load(environment: ["DATABASE_URL": "mysql://x"])
        }
    }

    @Test("production refuses each insecure setting and names it")
    func productionRefusals() async throws {
        let settings = try await WardSettings.load(environment: [
            "WARD_ENV": "production", "WARD_SECRET_KEY": "short", "WARD_LOG_BODIES": "true",
            "DATABASE_URL": "postgres://ward:postgres@db:5432/ward",
        ])

        let problems = settings.insecureSettings()

        #expect(problems.contains { $0.hasPrefix("WARD_SECRET_KEY is 5 bytes") })
        #expect(problems.contains { $0.hasPrefix("WARD_LOG_BODIES") })
        #expect(problems.contains { $0.hasPrefix("WARD_TRUST_PROXY") })
        #expect(problems.contains { $0.hasPrefix("DATABASE_URL uses a default password") })
        #expect(throws: SettingsError.self) { try settings.enforceProductionPolicy() }
    }

    @Test("production starts with a long key, a proxy in front and a strong password")
    func productionAccepts() async throws {
        let settings = try await WardSettings.load(environment: [
            "WARD_ENV": "production", "WARD_SECRET_KEY": String(repeating: "s", count: 48),
            "WARD_TRUST_PROXY": "true", "DATABASE_URL": "postgres://ward:Xq8-vv2-Lp0@db:5432/ward",
        ])
        #expect(settings.insecureSettings() == [])
        try settings.enforceProductionPolicy()
    }

    @Test("a missing secret key is refused in production")
    func missingKey() async throws {
        let settings = try await WardSettings.load(environment: ["WARD_ENV": "production", "WARD_TRUST_PROXY": "true"])
        #expect(settings.insecureSettings().count == 1)
        #expect(settings.insecureSettings().first?.hasPrefix("WARD_SECRET_KEY is missing") == true)
    }

    @Test("printed configuration masks secrets and database passwords")
    func masking() async throws {
        let settings = try await WardSettings.load(environment: [
            "WARD_SECRET_KEY": "super-secret-signing-key-of-some-length",
            "DATABASE_URL": "postgres://ward:hunter2hunter2@db:5432/ward",
        ])

        let printed = settings.printable().map { "\($0.setting.environmentVariable)=\($0.value)" }.joined(separator: "\n")

        #expect(!printed.contains("super-secret"))
        #expect(!printed.contains("hunter2"))
        #expect(printed.contains("DATABASE_URL=postgres://ward:****@db:5432/ward"))
    }

    @Test("a development secret key is generated once and kept")
    func developmentKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-dev-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = try WardSettings(given: [.dataDirectory: directory])

        let first = try settings.withResolvedSecretKey().secretKey
        let second = try settings.withResolvedSecretKey().secretKey

        #expect(first != nil)
        #expect(first == second)
        #expect((first?.utf8.count ?? 0) >= WardSettings.minimumSecretKeyLength)
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/secret.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("environment variable names follow the configuration keys")
    func variableNames() {
        #expect(Setting.httpPort.environmentVariable == "WARD_HTTP_PORT")
        #expect(Setting.databaseReadURL.environmentVariable == "DATABASE_READ_URL")
        #expect(Setting.dataDirectory.environmentVariable == "WARD_DATA_DIR")
        #expect(Set(Setting.all.map(\.environmentVariable)).count == Setting.all.count)
    }
}
