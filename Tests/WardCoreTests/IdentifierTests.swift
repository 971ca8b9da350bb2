import Foundation
import Logging
import Testing
@testable import WardCore

@Suite("Identifiers and logs")
struct IdentifierTests {
    @Test("UUIDv7 carries version 7, the RFC variant and sorts by time")
    func uuidV7() {
        let earlier = UUIDv7.make(at: Date(timeIntervalSince1970: 1_700_000_000))
        let later = UUIDv7.make(at: Date(timeIntervalSince1970: 1_700_000_001))

        let text = earlier.uuidString.lowercased()
        #expect(Array(text)[14] == "7")
        #expect(["8", "9", "a", "b"].contains(Array(text)[19]))
        #expect(earlier.uuidString.lowercased() < later.uuidString.lowercased())
        #expect(text.hasPrefix("018bcfe5-6800"))
    }

    @Test("UUIDv7s made one after another in a process are strictly increasing, within a millisecond too")
    func uuidV7Monotonic() {
        let ids = (0..<20_000).map { _ in UUIDv7.make().uuidString.lowercased() }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("an id for a moment ahead of the system clock (a test's moved clock) or behind it leaves the sequence as it was")
    func uuidV7OutsideTheSequence() {
        let before = (0..<1_000).map { _ in UUIDv7.make().lowercasedText }
        let ahead = UUIDv7.make(at: Date().addingTimeInterval(3_600)).lowercasedText
        let behind = UUIDv7.make(at: Date().addingTimeInterval(-3_600)).lowercasedText
        let after = (0..<1_000).map { _ in UUIDv7.make().lowercasedText }
        let ids = before + after
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ids made now still follow each other")
        #expect(ahead > after.last! && behind < before.first!)
        // Ids made now still carry the current millisecond, not the moved clock's.
        let milliseconds = UInt64(after.last!.replacingOccurrences(of: "-", with: "").prefix(12), radix: 16)!
        #expect(abs(Double(milliseconds) / 1000 - Date().timeIntervalSince1970) < 5)
    }

    @Test("an id's text is Foundation's canonical form in lower case, and parses back to the same UUID")
    func uuidText() throws {
        let uuids = (0..<1_000).map { _ in UUID() } + [UUIDv7.make(), UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))]
        for uuid in uuids {
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
            #expect(UUID(uuidString: uuid.lowercasedText) == uuid)
        }
        let id = UUIDv7.id()
        #expect(id.count == 36 && id == id.lowercased())
        #expect(Array(id)[14] == "7")
        // The random half differs between ids made in the same millisecond.
        let pair = (UUIDv7.make(), UUIDv7.make())
        #expect(pair.0.uuidString.suffix(12) != pair.1.uuidString.suffix(12))
    }

    @Test("incoming request ids are kept only when well formed")
    func requestIDs() {
        #expect(RequestID.isWellFormed("abc-123_x.y:z"))
        #expect(!RequestID.isWellFormed(""))
        #expect(!RequestID.isWellFormed("has space"))
        #expect(!RequestID.isWellFormed("line\nbreak"))
        #expect(!RequestID.isWellFormed(Substring(String(repeating: "a", count: 129))))
        #expect(RequestID.isWellFormed(Substring(RequestID.make())))
    }

    @Test("a log line is one JSON object with metadata as fields")
    func jsonLogLine() throws {
        let sink = CapturingSink()
        var logger = Logger(label: "ward.test") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        logger[metadataKey: "request_id"] = "r-1"

        logger.info("said \"hi\"\n", metadata: ["status": "200", "tenant_id": "acme"])
        logger.debug("dropped")

        #expect(sink.lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sink.lines[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "said \"hi\"\n")
        #expect(object["request_id"] as? String == "r-1")
        #expect(object["status"] as? Int == 200)
        #expect(object["tenant_id"] as? String == "acme")
        #expect(object["level"] as? String == "info")
        // UTC, milliseconds, and within a few seconds of now.
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(timestamp.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
        let logged = try #require(try? Date(timestamp, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        #expect(abs(logged.timeIntervalSinceNow) < 5)
    }

    @Test("a log line carries the error logged with it, unless metadata already names one")
    func jsonLogLineError() throws {
        struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full on /var/lib/ward" } }
        let sink = CapturingSink()
        let logger = Logger(label: "ward.test") { JSONLogHandler(label: $0, level: .info, sink: sink) }

        logger.log(level: .error, "commit failed", error: DiskFull())
        logger.log(level: .error, "commit failed", error: DiskFull(), metadata: ["error": "as the caller put it"])

        let objects = try sink.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["error"] as? String } == ["disk full on /var/lib/ward", "as the caller put it"])
    }

    @Test("the batched sink writes whole lines in order; a warning is written, after the lines before it, before logging returns")
    func batchedSink() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let sink = StandardOutputSink(descriptor: ends[1], batched: true)
        var logger = Logger(label: "ward.test") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        logger[metadataKey: "request_id"] = "r-2"
        for index in 0..<200 { logger.info("line \(index)") }
        logger.warning("something to look at")

        // Everything up to the warning is already in the pipe: read it without waiting.
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(ends[0], &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 201)
        let messages = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["message"] as? String
        }
        #expect(messages == (0..<200).map { "line \($0)" } + ["something to look at"])

        // An info line alone reaches the pipe within the batch window, without any flush.
        logger.info("later")
        var waited = 0
        var later: [UInt8] = []
        while later.last != UInt8(ascii: "\n") && waited < 2_000 {
            let count = read(ends[0], &chunk, chunk.count)
            if count > 0 { later += chunk[0..<count] } else { try await Task.sleep(for: .milliseconds(1)); waited += 1 }
        }
        #expect(String(decoding: later, as: UTF8.self).contains("\"message\":\"later\""))
    }

    @Test("an access-log line holds what the handler's line for the same fields holds, escaping included")
    func accessLine() throws {
        let sink = CapturingSink()
        let logger = Logger(label: "ward.access") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        let access = AccessLog(level: .info, sink: sink)
        let route = "/api/v1/patients/{id}\"\n"
        logger.info("request", metadata: [
            "request_id": "r-3", "method": "GET", "route": .string(route), "status": .stringConvertible(404), "duration_ms": .stringConvertible(7.802), "tenant_id": "acme",
        ])
        access.record(requestID: "r-3", method: "GET", route: route, status: 404, duration: .microseconds(7_802), tenantID: "acme", userID: nil)
        AccessLog(level: .warning, sink: sink).record(requestID: "r-4", method: "GET", route: "/", status: 200, duration: .zero, tenantID: nil, userID: nil)

        // The same text after the timestamp, field for field; the warning-level log wrote nothing.
        #expect(sink.lines.count == 2)
        let afterTimestamp = sink.lines.map { line in line.range(of: ",\"level\"").map { String(line[$0.lowerBound...]) } }
        #expect(afterTimestamp[0] != nil && afterTimestamp[0] == afterTimestamp[1])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sink.lines[1].utf8)) as? [String: Any])
        #expect(object["route"] as? String == route && object["duration_ms"] as? Double == 7.802 && object["user_id"] == nil)

        var text = ""
        AccessLog.appendMilliseconds(.microseconds(5), to: &text)
        AccessLog.appendMilliseconds(.seconds(2), to: &text)
        #expect(text == "0.005" + "2000.000")
    }

    @Test("while nobody reads the output the batched sink holds a bounded queue, then says how many lines it dropped")
    func batchedSinkBound() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let sink = StandardOutputSink(descriptor: ends[1], batched: true, queueLimit: 256 << 10)
        let logger = Logger(label: "ward.test") { JSONLogHandler(label: $0, level: .info, sink: sink) }
        // Nobody reads: the pipe (64 KiB) fills, the writer blocks, the queue (256 KiB) fills.
        for index in 0..<20_000 { logger.info("line \(index)", metadata: ["padding": .string(String(repeating: "x", count: 40))]) }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        var idle = 0
        while idle < 200 {
            let count = read(ends[0], &chunk, chunk.count)
            if count > 0 { bytes += chunk[0..<count]; idle = 0 } else { try await Task.sleep(for: .milliseconds(5)); idle += 1 }
            if bytes.last == UInt8(ascii: "\n"), String(decoding: bytes.suffix(300), as: UTF8.self).contains("log lines dropped") { break }
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        let objects = try lines.map { line in try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) }
        let kept = objects.filter { $0["logger"] as? String == "ward.test" }.count
        let dropped = try #require(objects.last?["dropped"] as? Int)
        // Every line is whole, the kept ones fit the queue and the pipe, and kept + dropped = all.
        #expect(kept < 20_000 && kept * 100 < (256 + 64 + 64) << 10)
        #expect(kept + dropped == 20_000)
    }
}
