import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Delivers through an SMTP relay (RFC 5321): STARTTLS on submission ports or TLS from the
/// first byte (`smtps://`, port 465), AUTH PLAIN or LOGIN, one connection per message.
///
/// Credentials are only sent over TLS, except to a relay on this machine (loopback).
package struct SMTPTransport: MailTransport {
    package enum Security: String, Sendable { case starttls, implicit, none }

    package let host: String
    package let port: Int
    package let security: Security
    package let username: String?
    package let password: String?
    /// Certificates to trust instead of the system's (a relay with a private CA).
    package let trustedCertificates: String?
    /// The name this node gives in `EHLO`.
    package let helloName: String
    package let timeout: Duration

    /// Reads `smtp://user:pass@host:587?tls=starttls` (`tls=none` for a plain relay) or
    /// `smtps://user:pass@host:465`.
    package init(url text: String, trustedCertificates: String? = nil, helloName: String = "localhost", timeout: Duration = .seconds(30)) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme),
              let host = url.host, !host.isEmpty else {
            throw MailConfigurationError("WARD_SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465")
        }
        let tls = url.queryItems?.first { $0.name == "tls" }?.value?.lowercased()
        switch (scheme, tls) {
        case ("smtps", nil), ("smtps", "implicit"): security = .implicit
        case ("smtp", nil), ("smtp", "starttls"): security = .starttls
        case ("smtp", "none"): security = .none
        default: throw MailConfigurationError("WARD_SMTP_URL: tls must be starttls or none for smtp://; smtps:// is TLS throughout")
        }
        self.host = host
        self.port = url.port ?? (scheme == "smtps" ? 465 : 587)
        self.username = url.user?.removingPercentEncoding
        self.password = url.password?.removingPercentEncoding
        if username != nil, security == .none, !["127.0.0.1", "::1", "localhost"].contains(host) {
            throw MailConfigurationError("WARD_SMTP_URL: credentials are only sent over TLS; tls=none is for a relay on this machine")
        }
        self.trustedCertificates = trustedCertificates
        self.helloName = helloName
        self.timeout = timeout
    }

    package var summary: String {
        "SMTP \(security == .implicit ? "smtps" : "smtp")://\(username.map { "\($0)@" } ?? "")\(host):\(port) (\(security.rawValue))"
    }

    package func deliver(_ message: [UInt8], from sender: String, to recipient: String) async throws {
        do {
            try await withTimeout(timeout) { try await self.converse(message, from: sender, to: recipient) }
        } catch let failure as DeliveryFailure {
            throw failure
        } catch let error as MailConfigurationError {
            throw DeliveryFailure.temporary(error.description)
        } catch is TimedOut {
            throw DeliveryFailure.temporary("no answer from \(host):\(port) within \(timeout)")
        } catch {
            // Refused or dropped connections, TLS handshakes that fail: the relay may be back later.
            throw DeliveryFailure.temporary("\(host):\(port): \(error)")
        }
    }

    private func tlsHandler() throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let trustedCertificates {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(trustedCertificates))
        }
        let context = try NIOSSLContext(configuration: configuration)
        return try NIOSSLClientHandler(context: context, serverHostname: host.first?.isNumber == true ? nil : host)
    }

    private func converse(_ message: [UInt8], from sender: String, to recipient: String) async throws {
        let implicitTLS = security == .implicit
        let transport = self
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS { try channel.pipeline.syncOperations.addHandler(try transport.tlsHandler()) }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var replies = inbound.makeAsyncIterator()
            func next(_ expected: ClosedRange<Int>, after step: String) async throws -> SMTPReply {
                guard let reply = try await replies.next() else { throw DeliveryFailure.temporary("connection closed after \(step)") }
                guard expected.contains(reply.code) else {
                    let text = "\(step): \(reply.code) \(reply.text)"
                    // Only a refusal of this message or its recipient is final. A 5xx to the
                    // greeting, TLS, AUTH or the sender is the relay's configuration (a wrong
                    // password): every message would fail alike, so they wait for a fix.
                    if reply.code >= 500, ["RCPT TO", "DATA", "message"].contains(step) {
                        throw DeliveryFailure.permanent(text, recipientRefused: step == "RCPT TO")
                    }
                    throw DeliveryFailure.temporary(text)
                }
                return reply
            }
            func command(_ line: String, expect expected: ClosedRange<Int> = 250...259, step: String) async throws -> SMTPReply {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                return try await next(expected, after: step)
            }

            _ = try await next(220...220, after: "greeting")
            var features = try await command("EHLO \(helloName)", step: "EHLO")
            if security == .starttls {
                guard features.lines.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                    throw DeliveryFailure.temporary("\(host) does not offer STARTTLS; set tls=none only for a relay on this machine")
                }
                _ = try await command("STARTTLS", expect: 220...220, step: "STARTTLS")
                let connection = channel.channel
                try await connection.eventLoop.submit {
                    try connection.pipeline.syncOperations.addHandler(try transport.tlsHandler(), position: .first)
                }.get()
                features = try await command("EHLO \(helloName)", step: "EHLO")
            }
            if let username, let password {
                let mechanisms = features.lines.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").map(String.init) ?? []
                if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
                    let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                    _ = try await command("AUTH PLAIN \(token)", expect: 235...235, step: "AUTH")
                } else {
                    _ = try await command("AUTH LOGIN", expect: 334...334, step: "AUTH")
                    _ = try await command(Data(username.utf8).base64EncodedString(), expect: 334...334, step: "AUTH")
                    _ = try await command(Data(password.utf8).base64EncodedString(), expect: 235...235, step: "AUTH")
                }
            }
            _ = try await command("MAIL FROM:<\(sender)>", step: "MAIL FROM")
            _ = try await command("RCPT TO:<\(recipient)>", step: "RCPT TO")
            _ = try await command("DATA", expect: 354...354, step: "DATA")
            try await outbound.write(ByteBuffer(bytes: Self.dotStuffed(message)))
            _ = try await next(250...259, after: "message")
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    /// The message with every line starting with "." doubled and the closing "." line added.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 16)
        var lineStart = true
        for byte in message {
            if lineStart, byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            lineStart = byte == 10
        }
        if !lineStart { out += [13, 10] }
        out += Array(".\r\n".utf8)
        return out
    }
}

/// A setting that names no usable transport.
package struct MailConfigurationError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// One SMTP reply: its code and its lines' text (several for `EHLO`).
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
    var text: String { lines.joined(separator: " ") }
}

/// Splits the server's bytes into replies: lines `250-…` continue, `250 …` ends one.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4096 { throw DeliveryFailure.temporary("reply line over 4096 bytes") }
            return .needMoreData
        }
        let length = end - buffer.readerIndex + 1
        guard var line = buffer.readString(length: length) else { return .needMoreData }
        line = line.trimmingCharacters(in: .newlines)
        guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else { throw DeliveryFailure.temporary("unreadable reply: \(line.prefix(80))") }
        let rest = line.dropFirst(3)
        lines.append(String(rest.dropFirst()))
        if rest.first == "-" { return .continue }
        context.fireChannelRead(wrapInboundOut(SMTPReply(code: code, lines: lines)))
        lines = []
        return .continue
    }
}

struct TimedOut: Error {}

/// Runs `work`, throwing `TimedOut` when it takes longer than `limit`.
func withTimeout<Result: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
