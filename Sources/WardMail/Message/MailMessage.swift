package import Foundation
import WardCore

/// An address with an optional display name, as `From:` and `To:` carry it.
package struct MailAddress: Sendable, Equatable, Codable {
    package var address: String
    package var name: String?

    package init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    /// Reads `Name <address>` or a bare address.
    package init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            self.init(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]), name: name.isEmpty ? nil : name)
        } else {
            self.init(trimmed)
        }
        guard Self.isValid(address) else { return nil }
    }

    /// A plain `local@domain` with no spaces, angle brackets or control characters: what a
    /// mail server accepts in `RCPT TO`, and nothing that could break a header line.
    package static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0) }
    }

    package var domain: String { String(address.split(separator: "@").last ?? "") }

    /// The header form, its name encoded when it is not plain ASCII.
    var header: String {
        guard let name, !name.isEmpty else { return address }
        let safe = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && !"\"\\".unicodeScalars.contains($0) }
        return (safe ? "\"\(name)\"" : MIMEEncoding.encodedWord(name)) + " <\(address)>"
    }
}

/// A file sent with a message.
package struct MailAttachment: Sendable, Equatable, Codable {
    package var filename: String
    package var mediaType: String
    package var data: Data

    package init(filename: String, mediaType: String, data: Data) {
        self.filename = filename
        self.mediaType = mediaType
        self.data = data
    }
}

/// One email, ready to be written as an RFC 5322 message: plain text and HTML alternatives,
/// attachments, and the identifiers a receiver uses to spot a duplicate.
package struct MailMessage: Sendable, Equatable {
    package var from: MailAddress
    package var to: MailAddress
    package var subject: String
    package var text: String
    package var html: String?
    package var attachments: [MailAttachment]
    /// Stable across every attempt to send it: a crash mid-send yields at most a duplicate
    /// with the same id, which receivers can drop.
    package var messageID: String
    package var date: Date
    /// Further headers, such as `Auto-Submitted` or `List-Unsubscribe`.
    package var headers: [(String, String)]

    package init(from: MailAddress, to: MailAddress, subject: String, text: String, html: String? = nil, attachments: [MailAttachment] = [],
                 messageID: String, date: Date, headers: [(String, String)] = []) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.messageID = messageID
        self.date = date
        self.headers = headers
    }

    package static func == (lhs: MailMessage, rhs: MailMessage) -> Bool {
        lhs.rendered() == rhs.rendered()
    }

    /// A new message id under `domain`.
    package static func newID(domain: String) -> String {
        "<\(UUID().uuidString.lowercased())@\(domain)>"
    }

    /// The message as sent on the wire: CRLF line ends, lines under 998 octets, 7-bit clean
    /// (every non-ASCII text is quoted-printable, base64 or an encoded word).
    package func rendered() -> [UInt8] {
        let boundary = "ward-" + String(messageID.utf8.reduce(UInt64(5381)) { ($0 &* 33) ^ UInt64($1) }, radix: 36)
        var lines: [String] = [
            "Date: \(Self.dateHeader(date))",
            "From: \(from.header)",
            "To: \(to.header)",
            "Message-ID: \(messageID)",
            "Subject: \(MIMEEncoding.header(subject))",
            "MIME-Version: 1.0",
        ]
        for (name, value) in headers { lines.append("\(name): \(MIMEEncoding.header(value))") }

        let textPart = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "", MIMEEncoding.quotedPrintable(text)]
        let body: [String]
        var alternative = textPart
        if let html {
            alternative = [
                "Content-Type: multipart/alternative; boundary=\"\(boundary)-alt\"", "",
                "--\(boundary)-alt",
            ] + textPart + [
                "--\(boundary)-alt",
                "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                MIMEEncoding.quotedPrintable(html),
                "--\(boundary)-alt--",
            ]
        }
        if attachments.isEmpty {
            body = alternative
        } else {
            var mixed = ["Content-Type: multipart/mixed; boundary=\"\(boundary)\"", "", "--\(boundary)"] + alternative
            for attachment in attachments {
                let name = MIMEEncoding.parameter("filename", attachment.filename)
                mixed += [
                    "--\(boundary)",
                    "Content-Type: \(attachment.mediaType)",
                    "Content-Disposition: attachment;\r\n \(name)",
                    "Content-Transfer-Encoding: base64", "",
                    attachment.data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]),
                ]
            }
            mixed.append("--\(boundary)--")
            body = mixed
        }
        return Array((lines + body).joined(separator: "\r\n").utf8) + [13, 10]
    }

    static func dateHeader(_ date: Date) -> String {
        Timestamp.format(date, "EEE, dd MMM yyyy HH:mm:ss '+0000'")
    }
}

/// The encodings that keep a message 7-bit clean (RFC 2045, 2047, 2231).
enum MIMEEncoding {
    /// A header value: as it is when plain printable ASCII, else as encoded words.
    static func header(_ value: String) -> String {
        let cleaned = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if cleaned.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }), cleaned.utf8.count < 900 { return cleaned }
        return encodedWord(cleaned)
    }

    /// `=?utf-8?B?…?=` words of at most 75 characters, folded onto continuation lines, never
    /// splitting a character between words.
    static func encodedWord(_ value: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            // 36 bytes encode to 48 base64 characters: with the 12 of the wrapper, 60, leaving
            // room for a header name of up to 16 characters within 78 octets.
            if chunk.count + bytes.count > 36 {
                words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// A parameter such as a file name: quoted when short printable ASCII, else RFC 2231
    /// percent-encoded UTF-8, continued over numbered sections of at most 50 characters.
    static func parameter(_ name: String, _ value: String) -> String {
        if value.utf8.count <= 60, value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }) {
            return "\(name)=\"\(value)\""
        }
        // Pieces never split a %XX escape, so each section decodes on its own.
        var sections: [String] = [""]
        for byte in value.utf8 {
            let scalar = UnicodeScalar(byte)
            let plain = byte < 0x80 && (scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-._".unicodeScalars.contains(scalar))
            let piece = plain ? String(scalar) : String(format: "%%%02X", byte)
            if sections[sections.count - 1].count + piece.count > 50 { sections.append("") }
            sections[sections.count - 1] += piece
        }
        if sections.count == 1 { return "\(name)*=utf-8''\(sections[0])" }
        return sections.enumerated().map { index, section in
            index == 0 ? "\(name)*0*=utf-8''\(section)" : "\(name)*\(index)*=\(section)"
        }.joined(separator: ";\r\n ")
    }

    /// Quoted-printable text with CRLF line ends and soft breaks under 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var out: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            var encoded = ""
            var length = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                var piece: String
                switch byte {
                case 0x21...0x3C, 0x3E...0x7E: piece = String(UnicodeScalar(byte))
                // A space or tab is literal except at the line's end, where transports strip it.
                case 0x20 where !isLast, 0x09 where !isLast: piece = String(UnicodeScalar(byte))
                default: piece = String(format: "=%02X", byte)
                }
                // A leading dot is left to SMTP's dot-stuffing; "From " at a line start is safe here.
                if length + piece.count > 75 {
                    encoded += "=\r\n"
                    length = 0
                }
                encoded += piece
                length += piece.count
            }
            out.append(encoded)
        }
        return out.joined(separator: "\r\n")
    }
}
