import Foundation

extension WardSettings {
    /// Settings with a secret key: the configured one, or in development a random key kept in
    /// `<data dir>/secret.key` (mode 0600) so tokens survive restarts. Production never gets
    /// here without a key: the production policy refuses to start first.
    package func withResolvedSecretKey() throws -> WardSettings {
        guard secretKey == nil, environment == .development else { return self }
        let directory = URL(fileURLWithPath: dataDirectory)
        let file = directory.appendingPathComponent("secret.key")
        var settings = self
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           existing.utf8.count >= Self.minimumSecretKeyLength {
            settings.secretKey = existing
            return settings
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
        guard FileManager.default.createFile(atPath: file.path, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SettingsError.invalid(.secretKey, "could not write a development key to \(file.path)")
        }
        settings.secretKey = key
        return settings
    }
}
