package import Foundation

/// The embedded default: each message is written as an `.eml` file, so a clinic without a
/// mail server still sees every email Ward would have sent (and can open or forward it).
/// Files are written whole (to a temporary name, then renamed), never half.
package struct FileTransport: MailTransport {
    package let directory: URL

    package init(directory: URL) {
        self.directory = directory
    }

    package var summary: String { "files under \(directory.path)" }

    package func deliver(_ message: [UInt8], from sender: String, to recipient: String) async throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let stamp = Int(Date().timeIntervalSince1970 * 1000)
            let name = "\(stamp)-\(UUID().uuidString.lowercased().prefix(8))"
            let partial = directory.appendingPathComponent(".\(name).partial")
            try Data(message).write(to: partial, options: [.atomic])
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial.path)
            try FileManager.default.moveItem(at: partial, to: directory.appendingPathComponent("\(name).eml"))
        } catch {
            // A full disk or a permission problem an operator can fix: try again later.
            throw DeliveryFailure.temporary("could not write to \(directory.path): \(error.localizedDescription)")
        }
    }
}
