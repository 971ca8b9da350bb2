package import Foundation
package import NIOCore

/// Where document bytes are kept: a directory under the data directory, or a bucket of any
/// S3-compatible store. Ward only ever hands a store ciphertext (`ChunkedCipher`), under keys
/// that name tenants by id. Objects are written whole and never changed; reads may ask for a
/// byte range.
package protocol ObjectStore: Sendable {
    /// `file` or `s3`, for logs and metrics.
    var kind: String { get }
    /// Stores `body` under `key`, replacing nothing that is visible until it is complete;
    /// returns the bytes written.
    func put(_ key: String, body: ByteStream) async throws -> Int
    /// The object's bytes, or those of `range` (which lies within the object).
    func get(_ key: String, range: Range<Int>?) async throws -> ByteStream
    /// Removes the object; removing one that is not there is no error.
    func delete(_ key: String) async throws
    /// Every key under `prefix`.
    func list(prefix: String) async throws -> [String]
    /// Throws when the store cannot be reached or written, for readiness.
    func check() async throws
}

extension ObjectStore {
    /// Removes every object under `prefix`; returns how many there were.
    @discardableResult
    package func deleteAll(prefix: String) async throws -> Int {
        let keys = try await list(prefix: prefix)
        for key in keys { try await delete(key) }
        return keys.count
    }
}

/// What a store could not do.
package enum ObjectStoreError: Error, CustomStringConvertible {
    case notFound(String)
    case unavailable(String)
    case misconfigured(String)

    package var description: String {
        switch self {
        case .notFound(let key): "no object \(key)"
        case .unavailable(let reason): "object store unavailable: \(reason)"
        case .misconfigured(let reason): reason
        }
    }
}

/// A one-pass stream of bytes, pulled a buffer at a time: what stores read from and return.
/// Pulling is what carries back-pressure from a slow reader to the writer, so a stream never
/// holds more than the buffer in hand.
package struct ByteStream: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer
    let pull: @Sendable () async throws -> ByteBuffer?

    package init(_ pull: @escaping @Sendable () async throws -> ByteBuffer?) {
        self.pull = pull
    }

    /// The buffers `iterator` has left, pulled by one reader.
    package init<Iterator: AsyncIteratorProtocol>(iterator: Iterator) where Iterator.Element == ByteBuffer {
        let box = IteratorBox(iterator)
        self.init { try await box.next() }
    }

    /// The buffers of `sequence`, pulled one by one.
    package init<Source: AsyncSequence>(_ sequence: Source) where Source.Element == ByteBuffer {
        self.init(iterator: sequence.makeAsyncIterator())
    }

    /// `bytes` as one buffer.
    package static func of(_ bytes: ByteBuffer) -> ByteStream {
        ByteStream { nil }.prepending(bytes)
    }

    /// `first` (a buffer read ahead, when there is one), then this stream's buffers.
    package func prepending(_ first: ByteBuffer?) -> ByteStream {
        let ahead = Once(first), rest = pull
        return ByteStream {
            if let buffer = ahead.take() { return buffer }
            return try await rest()
        }
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let pull: @Sendable () async throws -> ByteBuffer?
        package mutating func next() async throws -> ByteBuffer? { try await pull() }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pull: pull) }

    /// Every byte, up to `limit` (beyond it: `ObjectStoreError.unavailable`); for small objects.
    package func collect(upTo limit: Int) async throws -> ByteBuffer {
        var all = ByteBuffer()
        for try await var buffer in self {
            guard all.readableBytes + buffer.readableBytes <= limit else { throw ObjectStoreError.unavailable("object larger than \(limit) bytes") }
            all.writeBuffer(&buffer)
        }
        return all
    }
}

/// An iterator that one consumer pulls at a time, passed where a Sendable closure is needed.
// Unchecked: a ByteStream is consumed by one task, which pulls its buffers in turn.
final class IteratorBox<Iterator: AsyncIteratorProtocol>: @unchecked Sendable where Iterator.Element == ByteBuffer {
    private var iterator: Iterator
    init(_ iterator: Iterator) { self.iterator = iterator }
    func next() async throws -> ByteBuffer? { try await iterator.next() }
}

/// A buffer handed over once.
// Unchecked: one task pulls the stream it belongs to.
final class Once: @unchecked Sendable {
    private var buffer: ByteBuffer?
    init(_ buffer: ByteBuffer?) { self.buffer = buffer }
    func take() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer
    }
}

/// The stores Ward can keep documents in.
package enum ObjectStores {
    /// The store `url` names: `file:///path` or `s3://bucket/prefix?endpoint=…&region=…`;
    /// `setting` names the variable it came from, for the messages of a misconfiguration.
    package static func named(_ url: String, credentials: SigV4Signer.Credentials?, setting: String = "WARD_STORAGE_URL") throws -> any ObjectStore {
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw ObjectStoreError.misconfigured("\(setting) \(url) is not a URL")
        }
        switch scheme {
        case "file":
            guard !components.path.isEmpty else { throw ObjectStoreError.misconfigured("\(setting) file:// needs a path") }
            return FileObjectStore(root: URL(fileURLWithPath: components.path))
        case "s3":
            return try S3ObjectStore(url: components, credentials: credentials, setting: setting)
        default:
            throw ObjectStoreError.misconfigured("\(setting) must start with file:// or s3://")
        }
    }
}
