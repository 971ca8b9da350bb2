import Foundation

/// The settings a production node must not start with. Each finding names the variable and
/// says what to do, so an operator fixes them all in one go.
extension WardSettings {
    /// Passwords that ship in examples and images; a production database never uses one.
    static let defaultPasswords: Set<String> = [
        "postgres", "password", "changeme", "change-me", "admin", "secret", "ward", "root", "123456",
    ]

    /// The minimum length of `WARD_SECRET_KEY` in bytes (HS256 needs a 32-byte key).
    package static let minimumSecretKeyLength = 32

    /// Every insecure setting; empty when the node may start in production.
    package func insecureSettings() -> [String] {
        var problems: [String] = []
        if let key = secretKey {
            if key.utf8.count < Self.minimumSecretKeyLength {
                problems.append("\(Setting.secretKey.environmentVariable) is \(key.utf8.count) bytes; use at least \(Self.minimumSecretKeyLength) random bytes")
            }
        } else {
            problems.append("\(Setting.secretKey.environmentVariable) is missing; set it (or \(Setting.secretKey.environmentVariable)_FILE) to at least \(Self.minimumSecretKeyLength) random bytes")
        }
        if logBodies {
            problems.append("\(Setting.logBodies.environmentVariable) is on; bodies hold patient data and must not be logged")
        }
        if logLevel == "trace" || logLevel == "debug" {
            problems.append("\(Setting.logLevel.environmentVariable)=\(logLevel) logs too much detail; use info or higher")
        }
        if !auditReads {
            problems.append("\(Setting.auditReads.environmentVariable) is off: HIPAA requires every read of patient data to be audited")
        }
        if auditRetentionDays < 2190 {
            problems.append("\(Setting.auditRetentionDays.environmentVariable)=\(auditRetentionDays) deletes audit events early: HIPAA asks six years (2190 days)")
        }
        if auth.bcryptCost < 10 {
            problems.append("\(Setting.bcryptCost.environmentVariable)=\(auth.bcryptCost) makes password hashes cheap to crack; use at least 10 (12 is the default)")
        }
        if !trustProxy {
            problems.append("\(Setting.trustProxy.environmentVariable) is off: Ward serves plain HTTP and must sit behind a TLS-terminating proxy; set it to true once one is in front")
        }
        for setting in [Setting.databaseURL, .databaseReadURL] {
            guard let raw = given[setting], let url = URLComponents(string: raw) else { continue }
            if let password = url.password, Self.defaultPasswords.contains(password.lowercased()) {
                problems.append("\(setting.environmentVariable) uses a default password; set a strong one")
            }
        }
        return problems
    }

    /// Throws when the node runs in production with any insecure setting.
    package func enforceProductionPolicy() throws {
        guard environment == .production else { return }
        let problems = insecureSettings()
        if !problems.isEmpty { throw SettingsError.insecureForProduction(problems) }
    }
}
