import Foundation
package import NIOCore

/// A `multipart/form-data` body read as it arrives: the small fields before the file are kept
/// (up to 8 KiB each), then the file part is handed over as a stream that ends where its
/// closing boundary begins, so a file of any size passes through without being held. Forms
/// put their file input last; fields after it are not read.
// Unchecked: one task reads it, part after part.
package final class MultipartForm: @unchecked Sendable {
    private var iterator: ByteStream.AsyncIterator
    private let delimiter: [UInt8]
    private var buffer: [UInt8] = []
    private var ended = false
    package private(set) var fields: [String: String] = [:]
    static let fieldLimit = 8 * 1024

    package struct Malformed: Error {}

    /// The file part: its name as sent, its declared type, and its bytes.
    package struct File {
        package let filename: String
        package let contentType: String?
        package let bytes: ByteStream
    }

    /// The boundary a `Content-Type: multipart/form-data; boundary=…` names.
    package static func boundary(_ contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return (1...70).contains(value.count) ? value : nil
            }
        }
        return nil
    }

    package init(_ body: ByteStream, boundary: String) {
        iterator = body.makeAsyncIterator()
        delimiter = Array("\r\n--\(boundary)".utf8)
        buffer = Array("\r\n".utf8)   // the first boundary has no line break before it
    }

    /// Reads the fields up to the file part and returns it, or nil when the form has none.
    package func file() async throws -> File? {
        guard try await skip(through: delimiter) else { throw Malformed() }
        while true {
            guard try await fill(2) else { throw Malformed() }
            if buffer.starts(with: Array("--".utf8)) { return nil }   // the closing boundary
            guard buffer.starts(with: Array("\r\n".utf8)) else { throw Malformed() }
            buffer.removeFirst(2)
            let headers = try await headers()
            guard let disposition = headers["content-disposition"], let name = Self.parameter("name", in: disposition) else { throw Malformed() }
            if let filename = Self.parameter("filename", in: disposition) {
                return File(filename: filename, contentType: headers["content-type"], bytes: ByteStream { try await self.nextFileBytes() })
            }
            let value = try await readValue()
            fields[name] = String(decoding: value, as: UTF8.self)
        }
    }

    // MARK: Reading

    /// Pulls until `count` bytes are buffered; false at the end of the body.
    private func fill(_ count: Int) async throws -> Bool {
        while buffer.count < count {
            guard !ended, let next = try await iterator.next() else {
                ended = true
                return false
            }
            buffer += next.readableBytesView
        }
        return true
    }

    private func index(of needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        var start = 0
        while let first = buffer[start...].firstIndex(of: needle[0]), first + needle.count <= buffer.count {
            if buffer[first..<(first + needle.count)].elementsEqual(needle) { return first }
            start = first + 1
        }
        return nil
    }

    /// Drops everything up to and including `needle`; false if the body ends first.
    private func skip(through needle: [UInt8]) async throws -> Bool {
        while true {
            if let found = index(of: needle) {
                buffer.removeFirst(found + needle.count)
                return true
            }
            guard buffer.count < 64 * 1024, try await fill(buffer.count + 1) else { return false }
        }
    }

    private func headers() async throws -> [String: String] {
        let end = Array("\r\n\r\n".utf8)
        while index(of: end) == nil {
            guard buffer.count < Self.fieldLimit, try await fill(buffer.count + 1) else { throw Malformed() }
        }
        let found = index(of: end)!
        let text = String(decoding: buffer[..<found], as: UTF8.self)
        buffer.removeFirst(found + end.count)
        var headers: [String: String] = [:]
        for line in text.components(separatedBy: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2 { headers[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = pair[1].trimmingCharacters(in: .whitespaces) }
        }
        return headers
    }

    private func readValue() async throws -> [UInt8] {
        while index(of: delimiter) == nil {
            guard buffer.count < Self.fieldLimit + delimiter.count, try await fill(buffer.count + 1) else { throw Malformed() }
        }
        let found = index(of: delimiter)!
        let value = Array(buffer[..<found])
        buffer.removeFirst(found + delimiter.count)
        return value
    }

    /// The file's next bytes: all that cannot be the start of the closing delimiter.
    private func nextFileBytes() async throws -> ByteBuffer? {
        while true {
            if let found = index(of: delimiter) {
                guard found > 0 else { return nil }
                let bytes = ByteBuffer(bytes: buffer[..<found])
                buffer.removeFirst(found)
                return bytes
            }
            let safe = buffer.count - (delimiter.count - 1)
            if safe >= 16 * 1024 {
                let bytes = ByteBuffer(bytes: buffer[..<safe])
                buffer.removeFirst(safe)
                return bytes
            }
            guard try await fill(buffer.count + 16 * 1024) || index(of: delimiter) != nil else { throw Malformed() }
        }
    }

    /// A parameter of a header value: `name="x"` (quotes optional).
    static func parameter(_ name: String, in value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            }
        }
        return nil
    }
}
