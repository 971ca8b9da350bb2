package import Foundation
import Synchronization

/// A real SMTP server on loopback for mail tests: `scripts/lib/mail-sink.py` (aiosmtpd) with
/// STARTTLS under a self-signed certificate made once per test process, and AUTH required.
/// One shared sink serves the suite; a test that needs a server that goes away starts its own.
/// Recipients choose the answer: `tempfail-…` gets one 451, `reject-…` a 550.
package final class MailSink: Sendable {
    package static let user = "ward"
    package static let password = "sink-password"

    package let port: Int
    package let directory: URL
    /// The certificate the sink presents: what a client must trust (`WARD_SMTP_CA_FILE`).
    package let certificate: String
    private let process: TestProcess
    private let input: Pipe

    private static let sharedSink = SharedHelper { try MailSink.startBlocking() }
    private static let certificates = Mutex<(certificate: String, key: String)?>(nil)

    /// The suite's sink, started on first use.
    package static func shared() async throws -> MailSink {
        try await sharedSink.server()
    }

    /// The certificate every sink presents, made with openssl on first use.
    private static func makeCertificate() throws -> String {
        try certificates.withLock { pair in
            if let pair { return pair.certificate }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-mail-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
            let openssl = TestProcess()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.runAlone()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else { throw SinkError("openssl could not make the sink's certificate") }
            pair = (certificate, key)
            return certificate
        }
    }

    /// Starts a sink on `port` (0: any free one) and waits until it listens; `implicitTLS`
    /// speaks TLS from the first byte (port 465's way), `loginOnly` offers AUTH LOGIN alone.
    package static func start(port: Int = 0, implicitTLS: Bool = false, loginOnly: Bool = false) async throws -> MailSink {
        try await offThePool { try startBlocking(port: port, implicitTLS: implicitTLS, loginOnly: loginOnly) }
    }

    private static func startBlocking(port: Int = 0, implicitTLS: Bool = false, loginOnly: Bool = false) throws -> MailSink {
        let certificate = try makeCertificate()
        let key = URL(fileURLWithPath: certificate).deletingLastPathComponent().appendingPathComponent("key.pem").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-mail-\(UUID().uuidString)")
        let server = try HelperServer.start("mail-sink.py", ["--port", String(port), "--maildir", directory.path, "--cert", certificate, "--key", key,
                                                             "--user", user, "--password", password]
                                                + (implicitTLS ? ["--implicit-tls"] : []) + (loginOnly ? ["--login-only"] : []))
        // The first line says the port it listens on; nothing means it could not start.
        guard server.greeting.count == 2, server.greeting[0] == "port", let listening = Int(server.greeting[1]) else {
            server.process.terminate()
            throw SinkError("mail sink did not start (is aiosmtpd installed? pip install aiosmtpd): \(server.greeting.joined(separator: " "))")
        }
        return MailSink(port: listening, directory: directory, certificate: certificate, process: server.process, input: server.input)
    }

    private init(port: Int, directory: URL, certificate: String, process: TestProcess, input: Pipe) {
        self.port = port
        self.directory = directory
        self.certificate = certificate
        self.process = process
        self.input = input
    }

    /// `WARD_SMTP_URL` for this sink (STARTTLS, with its credentials).
    package var url: String { "smtp://\(Self.user):\(Self.password)@localhost:\(port)" }

    /// Stops the sink and waits until it has exited: mail sent to it afterwards finds no server.
    package func stop() async throws {
        close()
        let process = self.process
        try await offThePool { process.waitUntilExit() }
    }

    /// Closes the sink's input, on which it exits, without waiting for it (a test's `defer`).
    package func close() {
        try? input.fileHandleForWriting.close()
    }

    /// The files of the messages received for `recipient`, in the order they arrived.
    package func messages(to recipient: String) -> [URL] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "eml" }
            .sorted { Int($0.deletingPathExtension().lastPathComponent) ?? 0 < Int($1.deletingPathExtension().lastPathComponent) ?? 0 }
            .filter { file in
                guard let head = try? String(contentsOf: file, encoding: .utf8).split(separator: "\r\n", maxSplits: 2).dropFirst().first else { return false }
                return head.lowercased() == "x-sink-rcpt-to: \(recipient.lowercased())"
            }
    }

    /// Waits until `count` messages for `recipient` arrived (or `timeout` passed).
    package func waitFor(_ count: Int, to recipient: String, timeout: Duration = .seconds(20)) async throws -> [URL] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = messages(to: recipient)
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        return messages(to: recipient)
    }

    struct SinkError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// A received message as Python's email package reads it (`scripts/lib/read-mail.py`).
package struct ReceivedMail: Decodable, Sendable {
    package struct Part: Decodable, Sendable {
        package let type: String
        package let text: String
    }
    package struct Attachment: Decodable, Sendable {
        package let filename: String?
        package let type: String
        package let size: Int
        package let sha256: String
        /// Where `read(_:save:)` wrote the attachment.
        package let saved: String?
    }
    package let headers: [String: String]
    package let parts: [Part]
    package let attachments: [Attachment]
    package let defects: [String]
    package let dkimValid: Bool?

    enum CodingKeys: String, CodingKey { case headers, parts, attachments, defects, dkimValid = "dkim_valid" }

    /// Parses `file`; with `dkimKey` (a PEM public key) also verifies its DKIM signature; with
    /// `save`, writes each attachment to a temporary directory.
    package static func read(_ file: URL, dkimKey: String? = nil, save: Bool = false) async throws -> ReceivedMail {
        try await offThePool { try readBlocking(file, dkimKey: dkimKey, save: save) }
    }

    private static func readBlocking(_ file: URL, dkimKey: String?, save: Bool) throws -> ReceivedMail {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/lib/read-mail.py").path
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", script, file.path] + (dkimKey.map { ["--dkim-key", $0] } ?? [])
        if save {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ward-attachments-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            arguments += ["--save", directory.path]
        }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.runAlone()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(ReceivedMail.self, from: data)
    }

    package func text(of type: String) -> String? {
        parts.first { $0.type == type }?.text
    }
}
