import Foundation
package import Logging
import Synchronization

/// Where JSON log lines go: standard output in a server, a buffer in tests.
package protocol LogSink: Sendable {
    func write(line: String)
}

/// Writes each line to standard output (or standard error) in one call, so lines from
/// concurrent requests never interleave.
package struct StandardOutputSink: LogSink {
    private let descriptor: Int32
    /// A sink writing to standard error instead, for commands whose output is for people.
    package static let standardError = StandardOutputSink(descriptor: STDERR_FILENO)
    package init() { self.init(descriptor: STDOUT_FILENO) }
    private init(descriptor: Int32) { self.descriptor = descriptor }
    package func write(line: String) {
        var line = line
        line.append("\n")
        // One write(2) per line: the kernel keeps concurrent lines whole, and nothing is
        // buffered in the process to be lost on a crash.
        line.withUTF8 { buffer in _ = Foundation.write(descriptor, buffer.baseAddress, buffer.count) }
    }
}

/// Keeps lines in memory; tests read them back.
package final class CapturingSink: LogSink {
    private let storage = Mutex<[String]>([])
    package init() {}
    package func write(line: String) { storage.withLock { $0.append(line) } }
    /// Every line written so far.
    package var lines: [String] { storage.withLock { $0 } }
}

/// A swift-log handler printing one JSON object per line, with the metadata (request id,
/// tenant, user, …) as top-level fields, as log shippers expect.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    private let label: String
    private let sink: any LogSink

    package init(label: String, level: Logger.Level = .info, sink: any LogSink = StandardOutputSink()) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
        source: String, file: String, function: String, line: UInt
    ) {
        var fields = metadata
        if let explicit { fields.merge(explicit) { $1 } }
        var json = "{\"timestamp\":"
        json.append("\"")
        Self.appendTimestamp(to: &json)
        json.append("\"")
        json += ",\"level\":"
        JSONText.appendString(level.rawValue, to: &json)
        json += ",\"logger\":"
        JSONText.appendString(label, to: &json)
        json += ",\"message\":"
        JSONText.appendString(message.description, to: &json)
        for key in fields.keys.sorted() where !Self.reserved.contains(key) {
            json += ","
            JSONText.appendString(key, to: &json)
            json += ":"
            Self.append(fields[key]!, to: &json)
        }
        json += "}"
        sink.write(line: json)
    }

    private static let reserved: Set<String> = ["timestamp", "level", "logger", "message"]

    /// Appends the current UTC time as ISO 8601 with milliseconds (`2026-12-01T20:39:21.772Z`),
    /// without a date formatter: one line per request is written with it.
    private static func appendTimestamp(to json: inout String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) { if value < 10 { json.append("0") }; json.append(String(value)) }
        json.append(String(parts.tm_year + 1900))
        json.append("-"); two(parts.tm_mon + 1)
        json.append("-"); two(parts.tm_mday)
        json.append("T"); two(parts.tm_hour)
        json.append(":"); two(parts.tm_min)
        json.append(":"); two(parts.tm_sec)
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        json.append(milliseconds < 10 ? ".00" : milliseconds < 100 ? ".0" : ".")
        json.append(String(milliseconds))
        json.append("Z")
    }

    private static func append(_ value: Logger.Metadata.Value, to json: inout String) {
        switch value {
        case .string(let text):
            // Integers stay numbers so log queries can compare them (status, duration_ms).
            if let number = Int(text), String(number) == text { json += text } else { JSONText.appendString(text, to: &json) }
        case .stringConvertible(let convertible):
            let text = convertible.description
            if convertible is any BinaryInteger || convertible is Double { json += text } else { JSONText.appendString(text, to: &json) }
        case .array(let values):
            json += "["
            for (index, element) in values.enumerated() {
                if index > 0 { json += "," }
                append(element, to: &json)
            }
            json += "]"
        case .dictionary(let dictionary):
            json += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { json += "," }
                JSONText.appendString(key, to: &json)
                json += ":"
                append(dictionary[key]!, to: &json)
            }
            json += "}"
        }
    }
}

/// Minimal JSON text building for hot paths where an encoder would allocate too much.
package enum JSONText {
    /// Appends `text` as a quoted, escaped JSON string.
    package static func appendString(_ text: String, to json: inout String) {
        json.append("\"")
        // Most text needs no escaping: appended whole, not scalar by scalar.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            json.append(text)
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": json.append("\\\"")
                case "\\": json.append("\\\\")
                case "\n": json.append("\\n")
                case "\r": json.append("\\r")
                case "\t": json.append("\\t")
                case _ where scalar.value < 0x20:
                    json.append("\\u00")
                    json.append(Hex.digit(UInt8(scalar.value) >> 4))
                    json.append(Hex.digit(UInt8(scalar.value) & 0xF))
                default: json.unicodeScalars.append(scalar)
                }
            }
        }
        json.append("\"")
    }
}

extension JSONText {
    /// Appends a string-to-string object with its keys sorted.
    package static func appendObject(_ object: [String: String], to json: inout String) {
        json.append("{")
        for (index, key) in object.keys.sorted().enumerated() {
            if index > 0 { json.append(",") }
            appendString(key, to: &json)
            json.append(":")
            appendString(object[key]!, to: &json)
        }
        json.append("}")
    }
}

/// Lower-case hexadecimal, without a formatter.
package enum Hex {
    /// The ASCII digit for a value 0...15.
    static func ascii(_ value: UInt8) -> UInt8 {
        value < 10 ? value + 48 : value + 87
    }

    /// The digit for a value 0...15.
    package static func digit(_ value: UInt8) -> Character {
        Character(Unicode.Scalar(ascii(value)))
    }

    /// `bytes` as lower-case hexadecimal.
    package static func string(_ bytes: some Sequence<UInt8>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(64)
        for byte in bytes {
            utf8.append(ascii(byte >> 4))
            utf8.append(ascii(byte & 0xF))
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
