import Crypto
import CryptoExtras
package import Foundation

/// Signs outgoing messages with DKIM (RFC 6376): rsa-sha256, relaxed canonicalisation of
/// headers and body, so receivers can tell the clinic's mail from a forgery. The signature
/// goes on when a message is queued, so every attempt sends the same signed bytes.
package struct DKIMSigner: Sendable {
    package let domain: String
    package let selector: String
    private let key: _RSA.Signing.PrivateKey
    /// The headers signed, when the message has them.
    static let signedHeaders = ["from", "to", "subject", "date", "message-id", "mime-version", "content-type"]

    package init(domain: String, selector: String, pem: String) throws {
        guard selector.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }), !selector.isEmpty else {
            throw MailConfigurationError("DKIM selector must be letters, digits, dots and hyphens")
        }
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw MailConfigurationError("DKIM key file is not an RSA private key in PEM: \(error)")
        }
        guard key.keySizeInBits >= 1024 else { throw MailConfigurationError("DKIM key must have at least 1024 bits (2048 recommended)") }
        self.domain = domain
        self.selector = selector
    }

    /// `message` with a `DKIM-Signature` header in front.
    package func sign(_ message: [UInt8], at time: Date = Date()) throws -> [UInt8] {
        let text = String(decoding: message, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw MailConfigurationError("message has no body") }
        let headerBlock = String(text[..<split.lowerBound])
        let body = String(text[split.upperBound...])

        let bodyHash = Data(SHA256.hash(data: Data(Self.relaxedBody(body).utf8))).base64EncodedString()
        let fields = Self.unfoldedFields(headerBlock)
        let signed = Self.signedHeaders.filter { name in fields.contains { $0.name.lowercased() == name } }
        let tags = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=\(domain); s=\(selector); t=\(Int(time.timeIntervalSince1970)); "
            + "h=\(signed.joined(separator: ":")); bh=\(bodyHash); b="
        var input = ""
        for name in signed {
            // The last occurrence of a header is the one signed first (RFC 6376 5.4.2).
            if let field = fields.last(where: { $0.name.lowercased() == name }) { input += Self.relaxedHeader(field.name, field.value) + "\r\n" }
        }
        input += Self.relaxedHeader("DKIM-Signature", tags)
        let signature = try key.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        // One tag a line, the signature in 72-character pieces: folding whitespace is ignored
        // by verifiers (the tags' canonical form is the one signed above).
        var pieces: [Substring] = []
        var rest = Substring(signature)
        while !rest.isEmpty {
            pieces.append(rest.prefix(72))
            rest = rest.dropFirst(72)
        }
        let folded = "DKIM-Signature: " + tags.replacingOccurrences(of: "; ", with: ";\r\n\t") + pieces.joined(separator: "\r\n\t") + "\r\n"
        return Array(folded.utf8) + message
    }

    /// Header fields with continuation lines joined.
    static func unfoldedFields(_ block: String) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for line in block.components(separatedBy: "\r\n") {
            if line.first == " " || line.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].value += "\r\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return fields
    }

    static func relaxedHeader(_ name: String, _ value: String) -> String {
        let unfolded = value.replacingOccurrences(of: "\r\n", with: "")
        return name.lowercased().trimmingCharacters(in: .whitespaces) + ":" + collapse(unfolded).trimmingCharacters(in: .whitespaces)
    }

    static func relaxedBody(_ body: String) -> String {
        var lines = body.components(separatedBy: "\r\n").map { line in
            var collapsed = collapse(line)
            while collapsed.hasSuffix(" ") { collapsed.removeLast() }
            return collapsed
        }
        while lines.last == "" { lines.removeLast() }
        return lines.isEmpty ? "" : lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func collapse(_ text: String) -> String {
        var out = ""
        var inSpace = false
        for character in text {
            if character == " " || character == "\t" {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(character)
                inSpace = false
            }
        }
        return out
    }
}
