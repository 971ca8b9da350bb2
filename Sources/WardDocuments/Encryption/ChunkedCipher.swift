package import Crypto
package import Foundation
package import NIOCore
import NIOFoundationCompat

/// How Ward encrypts a document before any store sees it: a 16-byte header (`WRD1`, the data
/// key's generation, an 8-byte random nonce prefix), then the plaintext in chunks of 64 KiB,
/// each sealed with ChaCha20-Poly1305 under the tenant's data key. A chunk's nonce is the
/// prefix and its index, and its associated data is the header, the object's key and whether
/// it is the last chunk: chunks cannot be reordered, dropped, cut short or moved to another
/// object without the tag failing. Fixed-size chunks let a byte range be read by decrypting
/// only the chunks it touches.
package enum ChunkedCipher {
    package static let magic: [UInt8] = Array("WRD1".utf8)
    package static let headerSize = 16
    package static let chunkSize = 64 * 1024
    package static let tagSize = 16
    static let stride = chunkSize + tagSize

    /// The header of an object: what a reader needs besides the key.
    package struct Header: Sendable, Equatable {
        package let keyGeneration: UInt32
        package let noncePrefix: [UInt8]

        package init(keyGeneration: UInt32, noncePrefix: [UInt8]) {
            self.keyGeneration = keyGeneration
            self.noncePrefix = noncePrefix
        }

        /// A header with a fresh random nonce prefix.
        package static func fresh(keyGeneration: UInt32) -> Header {
            var generator = SystemRandomNumberGenerator()
            return Header(keyGeneration: keyGeneration, noncePrefix: (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }

        package var bytes: [UInt8] {
            ChunkedCipher.magic + withUnsafeBytes(of: keyGeneration.bigEndian, Array.init) + noncePrefix
        }

        /// The nonce prefix as hex, as the document's row keeps it.
        package var nonceHex: String { noncePrefix.map { String(format: "%02x", $0) }.joined() }

        package init?(nonceHex: String, keyGeneration: UInt32) {
            let bytes = Swift.stride(from: 0, to: nonceHex.utf8.count, by: 2).compactMap { index -> UInt8? in
                let start = nonceHex.index(nonceHex.startIndex, offsetBy: index)
                return UInt8(nonceHex[start..<nonceHex.index(start, offsetBy: 2)], radix: 16)
            }
            guard bytes.count == 8 else { return nil }
            self.init(keyGeneration: keyGeneration, noncePrefix: bytes)
        }
    }

    /// Chunks a plaintext of `size` bytes is sealed in (an empty one still has one).
    package static func chunkCount(plaintextSize size: Int) -> Int { max(1, (size + chunkSize - 1) / chunkSize) }

    /// The size of the stored object for a plaintext of `size` bytes.
    package static func objectSize(plaintextSize size: Int) -> Int { headerSize + size + chunkCount(plaintextSize: size) * tagSize }

    static func nonce(_ header: Header, index: Int) throws -> ChaChaPoly.Nonce {
        try ChaChaPoly.Nonce(data: header.noncePrefix + withUnsafeBytes(of: UInt32(index).bigEndian, Array.init))
    }

    static func associatedData(_ header: Header, objectKey: String, final: Bool) -> [UInt8] {
        header.bytes + Array(objectKey.utf8) + [final ? 1 : 0]
    }

    static func seal(_ chunk: ByteBuffer, index: Int, final: Bool, header: Header, objectKey: String, key: SymmetricKey) throws -> ByteBuffer {
        let box = try ChaChaPoly.seal(chunk.readableBytesView, using: key, nonce: nonce(header, index: index),
                                      authenticating: associatedData(header, objectKey: objectKey, final: final))
        var out = ByteBuffer()
        out.reserveCapacity(chunk.readableBytes + tagSize)
        out.writeBytes(box.ciphertext)
        out.writeBytes(box.tag)
        return out
    }

    static func open(_ sealed: ByteBuffer, index: Int, final: Bool, header: Header, objectKey: String, key: SymmetricKey) throws -> ByteBuffer {
        guard sealed.readableBytes >= tagSize else { throw DocumentDamaged(reason: "chunk \(index) is cut short") }
        let view = sealed.readableBytesView
        let split = view.index(view.endIndex, offsetBy: -tagSize)
        do {
            let box = try ChaChaPoly.SealedBox(nonce: nonce(header, index: index), ciphertext: view[..<split], tag: view[split...])
            let plain = try ChaChaPoly.open(box, using: key, authenticating: associatedData(header, objectKey: objectKey, final: final))
            return ByteBuffer(bytes: plain)
        } catch {
            throw DocumentDamaged(reason: "chunk \(index) does not authenticate")
        }
    }

    /// `plaintext` sealed as it is pulled: the object's bytes, header first.
    package static func sealing(_ plaintext: ByteStream, header: Header, objectKey: String, key: SymmetricKey) -> ByteStream {
        SealingStream(plaintext, header: header, objectKey: objectKey, key: key).stream
    }

    /// The plaintext of `range` from `ciphertext`, which starts at the first chunk `span` gives.
    package static func opening(_ ciphertext: ByteStream, header: Header, objectKey: String, key: SymmetricKey, plaintextSize: Int,
                                range: Range<Int>) -> ByteStream {
        OpeningStream(ciphertext, header: header, objectKey: objectKey, key: key, plaintextSize: plaintextSize, range: range).stream
    }

    /// Where the chunks covering `range` of a plaintext of `size` bytes lie in the object.
    package static func span(of range: Range<Int>, plaintextSize size: Int) -> (firstChunk: Int, objectRange: Range<Int>) {
        let first = range.lowerBound / chunkSize
        let last = max(first, (range.upperBound - 1) / chunkSize)
        let start = headerSize + first * stride
        let end = min(objectSize(plaintextSize: size), headerSize + (last + 1) * stride)
        return (first, start..<end)
    }
}

/// A stored object that fails its authentication: damaged in the store, or not Ward's.
package struct DocumentDamaged: Error, CustomStringConvertible {
    package let reason: String
    package var description: String { "the stored document is damaged: \(reason)" }
}

/// Seals a plaintext stream as it is pulled: the header first, then each chunk once the next
/// byte (or the end) shows whether it is the last.
// Unchecked: one task pulls it.
final class SealingStream: @unchecked Sendable {
    private var iterator: ByteStream.AsyncIterator
    private let header: ChunkedCipher.Header
    private let objectKey: String
    private let key: SymmetricKey
    private var pending = ByteBuffer()
    private var index = 0
    private var sentHeader = false
    private var ended = false
    private var done = false

    init(_ plaintext: ByteStream, header: ChunkedCipher.Header, objectKey: String, key: SymmetricKey) {
        iterator = plaintext.makeAsyncIterator()
        self.header = header
        self.objectKey = objectKey
        self.key = key
    }

    var stream: ByteStream { ByteStream { try await self.next() } }

    func next() async throws -> ByteBuffer? {
        if !sentHeader {
            sentHeader = true
            return ByteBuffer(bytes: header.bytes)
        }
        if done { return nil }
        // Hold more than a chunk (or reach the end), so the chunk about to go is known to be
        // the last or not.
        while !ended, pending.readableBytes <= ChunkedCipher.chunkSize {
            if var buffer = try await iterator.next() {
                pending.writeBuffer(&buffer)
            } else {
                ended = true
            }
        }
        let final = ended && pending.readableBytes <= ChunkedCipher.chunkSize
        let chunk = pending.readSlice(length: min(pending.readableBytes, ChunkedCipher.chunkSize))!
        pending.discardReadBytes()
        let sealed = try ChunkedCipher.seal(chunk, index: index, final: final, header: header, objectKey: objectKey, key: key)
        index += 1
        if final { done = true }
        return sealed
    }
}

/// Opens the chunks of an object as they are pulled, yielding the plaintext of `range`.
// Unchecked: one task pulls it.
final class OpeningStream: @unchecked Sendable {
    private var iterator: ByteStream.AsyncIterator
    private let header: ChunkedCipher.Header
    private let objectKey: String
    private let key: SymmetricKey
    private let plaintextSize: Int
    private let range: Range<Int>
    private var index: Int
    private var pending = ByteBuffer()
    private var ended = false

    /// `ciphertext` starts at the chunk `ChunkedCipher.span(of:plaintextSize:)` gives.
    init(_ ciphertext: ByteStream, header: ChunkedCipher.Header, objectKey: String, key: SymmetricKey, plaintextSize: Int, range: Range<Int>) {
        iterator = ciphertext.makeAsyncIterator()
        self.header = header
        self.objectKey = objectKey
        self.key = key
        self.plaintextSize = plaintextSize
        self.range = range
        index = range.lowerBound / ChunkedCipher.chunkSize
    }

    var stream: ByteStream { ByteStream { try await self.next() } }

    func next() async throws -> ByteBuffer? {
        let lastIndex = ChunkedCipher.chunkCount(plaintextSize: plaintextSize) - 1
        let chunkStart = index * ChunkedCipher.chunkSize
        guard index <= lastIndex, chunkStart < range.upperBound else { return nil }
        let plainLength = min(ChunkedCipher.chunkSize, plaintextSize - chunkStart)
        let sealedLength = plainLength + ChunkedCipher.tagSize
        while !ended, pending.readableBytes < sealedLength {
            if var buffer = try await iterator.next() { pending.writeBuffer(&buffer) } else { ended = true }
        }
        guard pending.readableBytes >= sealedLength, let sealed = pending.readSlice(length: sealedLength) else {
            throw DocumentDamaged(reason: "the object ends before chunk \(index)")
        }
        pending.discardReadBytes()
        let plain = try ChunkedCipher.open(sealed, index: index, final: index == lastIndex, header: header, objectKey: objectKey, key: key)
        index += 1
        // Trim the chunk to the range asked for.
        let from = max(0, range.lowerBound - chunkStart)
        let to = min(plain.readableBytes, range.upperBound - chunkStart)
        return plain.getSlice(at: plain.readerIndex + from, length: max(0, to - from))
    }
}
