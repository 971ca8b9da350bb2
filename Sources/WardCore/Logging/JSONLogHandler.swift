import Foundation
package import Logging
import Synchronization

/// Where JSON log lines go: standard output in a server, a buffer in tests.
package protocol LogSink: Sendable {
    /// Writes one line; `urgent` lines (warnings and worse) are written before this returns.
    func write(line: String, urgent: Bool)
}

/// Writes lines to standard output (or standard error) whole, in the order they were logged.
///
/// The server's sink batches: a line is queued and a writer thread writes whatever has queued,
/// at most `batchWindow` later, in one `write(2)`, so a busy node makes one system call per
/// batch rather than one per request. A warning or error is written, after everything queued
/// before it, before the call that logs it returns; what is queued at exit is written then. A
/// crash can lose at most the last `batchWindow` of lines below warning level. Standard error
/// (the commands' output, for people) is written line by line.
package final class StandardOutputSink: LogSink, Sendable {
    /// The server's sink: standard output, batched, with what is queued written at exit.
    package static let standardOutput: StandardOutputSink = {
        let sink = StandardOutputSink(descriptor: STDOUT_FILENO, batched: true)
        atexit { StandardOutputSink.standardOutput.flush() }
        return sink
    }()
    /// Standard error, a line at a time.
    package static let standardError = StandardOutputSink(descriptor: STDERR_FILENO, batched: false)

    /// How long a queued line may wait for the writer thread.
    static let batchWindow: Duration = .milliseconds(2)

    private let descriptor: Int32
    private let queue: LineQueue?

    /// A sink writing to `descriptor`; `batched` starts its writer thread, which holds at most
    /// `queueLimit` bytes of lines while the descriptor is not being read (more are dropped and
    /// counted in a warning line).
    package init(descriptor: Int32, batched: Bool, queueLimit: Int = 16 << 20) {
        self.descriptor = descriptor
        guard batched else {
            queue = nil
            return
        }
        let queue = LineQueue(limit: queueLimit)
        self.queue = queue
        let thread = Thread { [descriptor] in
            while true {
                queue.waitForLines()
                Thread.sleep(forTimeInterval: Self.batchWindow.seconds)
                queue.writeQueued(to: descriptor)
            }
        }
        thread.name = "ward-log-writer"
        thread.start()
    }

    package func write(line: String, urgent: Bool) {
        guard let queue else {
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            Self.writeAll(bytes, to: descriptor)
            return
        }
        queue.append(line)
        if urgent { flush() }
    }

    /// Writes every queued line now (at exit, and after urgent lines).
    package func flush() {
        queue?.writeQueued(to: descriptor)
    }

    fileprivate static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // nowhere left to log to
                }
            }
        }
    }
}

/// Lines waiting for the writer thread.
private final class LineQueue: Sendable {
    /// The most bytes queued: when whatever reads the output stops reading, lines beyond this
    /// are dropped and counted rather than held without bound (or blocking requests).
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private nonisolated(unsafe) var bytes: [UInt8] = []
    /// Lines dropped at the limit since the last batch; guarded by `condition`.
    private nonisolated(unsafe) var dropped = 0
    /// Held while a batch is taken and written, so batches reach the descriptor in order.
    private let writing = Mutex(())

    func append(_ line: String) {
        condition.lock()
        let wasEmpty = bytes.isEmpty
        if bytes.count + line.utf8.count < limit {
            bytes.append(contentsOf: line.utf8)
            bytes.append(UInt8(ascii: "\n"))
        } else {
            dropped += 1
        }
        condition.unlock()
        if wasEmpty { condition.signal() }
    }

    /// Writes what has queued to `descriptor`.
    func writeQueued(to descriptor: Int32) {
        writing.withLock { _ in
            condition.lock()
            var batch = bytes
            bytes = []
            if dropped > 0 {
                var note = JSONLogHandler.lineOpening(level: .warning, label: "ward.log", message: "log lines dropped: the output was not read")
                note += ",\"dropped\":\(dropped)}\n"
                batch += Array(note.utf8)
                dropped = 0
            }
            condition.unlock()
            if !batch.isEmpty { StandardOutputSink.writeAll(batch, to: descriptor) }
        }
    }

    /// Blocks until a line is queued.
    func waitForLines() {
        condition.lock()
        while bytes.isEmpty { condition.wait() }
        condition.unlock()
    }
}

extension Duration {
    /// The duration in seconds, as `Thread.sleep` takes it.
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Keeps lines in memory; tests read them back.
package final class CapturingSink: LogSink {
    private let storage = Mutex<[String]>([])
    package init() {}
    package func write(line: String, urgent: Bool) { storage.withLock { $0.append(line) } }
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

    package init(label: String, level: Logger.Level = .info, sink: any LogSink = StandardOutputSink.standardOutput) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        if let error = event.error, fields["error"] == nil { fields["error"] = .string(String(describing: error)) }
        var json = Self.lineOpening(level: event.level, label: label, message: event.message.description)
        for key in fields.keys.sorted() where !Self.reserved.contains(key) {
            json += ","
            JSONText.appendString(key, to: &json)
            json += ":"
            Self.append(fields[key]!, to: &json)
        }
        json += "}"
        sink.write(line: json, urgent: event.level >= .warning)
    }

    private static let reserved: Set<String> = ["timestamp", "level", "logger", "message"]

    /// A line's fixed fields, `{"timestamp":…,"level":…,"logger":…,"message":…`, left open for
    /// the metadata fields (sorted) and the closing brace. Every JSON line Ward writes starts so.
    static func lineOpening(level: Logger.Level, label: String, message: String) -> String {
        var json = "{\"timestamp\":\""
        json.reserveCapacity(320)
        appendTimestamp(to: &json)
        json += "\",\"level\":"
        JSONText.appendString(level.rawValue, to: &json)
        json += ",\"logger\":"
        JSONText.appendString(label, to: &json)
        json += ",\"message\":"
        JSONText.appendString(message, to: &json)
        return json
    }

    /// Appends the current UTC time as ISO 8601 with milliseconds (`2026-12-01T20:39:21.772Z`),
    /// without a date formatter: one line per request is written with it.
    private static func appendTimestamp(to json: inout String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = Int32(now.tv_nsec / 1_000_000)
        // Written as bytes into one 24-byte string rather than a dozen appends of formatted numbers.
        let text = String(unsafeUninitializedCapacity: 24) { bytes in
            func digits(_ value: Int32, _ count: Int, at offset: Int) {
                var rest = value
                for index in stride(from: offset + count - 1, through: offset, by: -1) {
                    bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            digits(parts.tm_year + 1900, 4, at: 0); bytes[4] = UInt8(ascii: "-")
            digits(parts.tm_mon + 1, 2, at: 5); bytes[7] = UInt8(ascii: "-")
            digits(parts.tm_mday, 2, at: 8); bytes[10] = UInt8(ascii: "T")
            digits(parts.tm_hour, 2, at: 11); bytes[13] = UInt8(ascii: ":")
            digits(parts.tm_min, 2, at: 14); bytes[16] = UInt8(ascii: ":")
            digits(parts.tm_sec, 2, at: 17); bytes[19] = UInt8(ascii: ".")
            digits(milliseconds, 3, at: 20); bytes[23] = UInt8(ascii: "Z")
            return 24
        }
        json.append(text)
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
        if !needsEscaping(text) {
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

    /// Whether `text` holds a quote, a backslash or a control character, checked over its
    /// contiguous UTF-8 bytes where it has them (native strings do).
    private static func needsEscaping(_ text: String) -> Bool {
        func escaped(_ byte: UInt8) -> Bool { byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") }
        if let found = text.utf8.withContiguousStorageIfAvailable({ bytes in bytes.contains(where: escaped) }) { return found }
        return text.utf8.contains(where: escaped)
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
    package static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { text in
            for (index, byte) in bytes.enumerated() {
                text[2 * index] = ascii(byte >> 4)
                text[2 * index + 1] = ascii(byte & 0xF)
            }
            return bytes.count * 2
        }
    }
}
