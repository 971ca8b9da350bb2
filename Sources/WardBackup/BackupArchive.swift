import CompressNIO
package import Crypto
package import Foundation
import NIOCore

/// What one part of a backup (one tenant) holds, in order: entries, each a header and its
/// data. Entry kinds: `tenant` (the tenant's record), `key` (its document data key), `sqlite`
/// (its database file), `table` (one table of its PostgreSQL schema, a row per data record) and
/// `object` (one stored document, as the store holds it).
package struct BackupEntry: Codable, Sendable, Equatable {
    package var kind: String
    package var name: String
    package var columns: [String]?

    package init(kind: String, name: String, columns: [String]? = nil) {
        self.kind = kind
        self.name = name
        self.columns = columns
    }
}

/// The file format of a part, `WARDBK01`: an 8-byte magic, an 8-byte random nonce prefix, then
/// frames. A frame is a 4-byte length and a ChaCha20-Poly1305 box (tag at the end) of up to
/// 1 MiB of the part's bytes, deflated: the deflated length-prefixed block. A frame's nonce is
/// the prefix and its index; its associated data names the backup, the part and whether the
/// frame is the last, so frames cannot be reordered, dropped, cut short or moved to another
/// part without the tag failing. The part's bytes are records: a type byte (1 begin, 2 data,
/// 3 end), a 4-byte length and the record's bytes (a begin's is the entry as JSON).
enum BackupFormat {
    static let magic = Array("WARDBK01".utf8)
    static let frameSize = 1 << 20
    static let tagSize = 16

    static func nonce(prefix: [UInt8], index: UInt32) throws -> ChaChaPoly.Nonce {
        try ChaChaPoly.Nonce(data: prefix + withUnsafeBytes(of: index.bigEndian, Array.init))
    }

    static func associatedData(context: String, final: Bool) -> [UInt8] {
        Array("ward backup v1\n\(context)\n".utf8) + [final ? 1 : 0]
    }
}

/// A part being written: records go in, deflated and sealed frames go out to the file, and
/// the file's SHA-256 is taken as it is written. Bounded memory whatever the part's size.
package final class BackupPartWriter {
    private let file: FileHandle
    private let key: SymmetricKey
    private let context: String
    private let prefix: [UInt8]
    private var pending: [UInt8] = []
    private var index: UInt32 = 0
    private var hasher = SHA256()
    private var written = 0

    /// Creates the part's file at `path`; `context` (the backup and part names) is bound into every frame.
    package init(path: String, key: SymmetricKey, context: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let file = FileHandle(forWritingAtPath: path) else { throw BackupError.io("cannot create \(path)") }
        self.file = file
        self.key = key
        self.context = context
        var generator = SystemRandomNumberGenerator()
        prefix = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try emit(BackupFormat.magic + prefix)
        pending.reserveCapacity(BackupFormat.frameSize + 64)
    }

    package func begin(_ entry: BackupEntry) throws {
        try record(1, Array(try JSONEncoder().encode(entry)))
    }

    /// One data record; large contents are cut into several.
    package func data<Bytes: Collection>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        var rest = bytes[...]
        repeat {
            let piece = rest.prefix(BackupFormat.frameSize)
            try record(2, Array(piece))
            rest = rest.dropFirst(piece.count)
        } while !rest.isEmpty
    }

    package func end() throws {
        try record(3, [])
    }

    /// Seals what is pending as the last frame and closes the file; returns its SHA-256 (hex)
    /// and size.
    package func finish() throws -> (sha256: String, bytes: Int) {
        try frame(final: true)
        try file.synchronize()
        try file.close()
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), written)
    }

    private func record(_ type: UInt8, _ bytes: [UInt8]) throws {
        pending.append(type)
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { pending.append(contentsOf: $0) }
        pending.append(contentsOf: bytes)
        while pending.count >= BackupFormat.frameSize { try frame(final: false) }
    }

    private func frame(final: Bool) throws {
        let take = min(pending.count, BackupFormat.frameSize)
        var raw = ByteBuffer(bytes: pending[0..<take])
        pending.removeFirst(take)
        let deflated = try raw.compress(with: .deflate())
        var plain = withUnsafeBytes(of: UInt32(take).bigEndian, Array.init)
        plain += deflated.readableBytesView
        let box = try ChaChaPoly.seal(plain, using: key, nonce: try BackupFormat.nonce(prefix: prefix, index: index),
                                      authenticating: BackupFormat.associatedData(context: context, final: final))
        index += 1
        let sealed = Array(box.ciphertext) + Array(box.tag)
        try emit(withUnsafeBytes(of: UInt32(sealed.count).bigEndian, Array.init) + sealed)
    }

    private func emit(_ bytes: [UInt8]) throws {
        hasher.update(data: bytes)
        written += bytes.count
        try file.write(contentsOf: bytes)
    }
}

/// A part being read back: every frame opened and checked (a damaged, truncated or foreign
/// file throws `BackupError.damaged`), records handed out one at a time.
package final class BackupPartReader {
    package enum Record: Equatable {
        case begin(BackupEntry)
        case data([UInt8])
        case end
    }

    private let file: FileHandle
    private let key: SymmetricKey
    private let context: String
    private var prefix: [UInt8] = []
    private var plain: [UInt8] = []
    private var offset = 0
    private var index: UInt32 = 0
    private var sawFinal = false
    private var hasher = SHA256()

    package init(path: String, key: SymmetricKey, context: String) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw BackupError.io("cannot open \(path)") }
        self.file = file
        self.key = key
        self.context = context
        let head = try read(16)
        guard head.count == 16, Array(head.prefix(8)) == BackupFormat.magic else { throw BackupError.damaged("\(path) is not a Ward backup part") }
        prefix = Array(head.suffix(8))
    }

    deinit { try? file.close() }

    /// The next record, or nil after the last frame.
    package func next() throws -> Record? {
        guard try fill(5) else {
            guard offset == plain.count else { throw BackupError.damaged("the part ends inside a record") }
            return nil
        }
        let type = plain[offset]
        let length = Int(plain[(offset + 1)..<(offset + 5)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard try fill(5 + length) else { throw BackupError.damaged("the part ends inside a record") }
        let bytes = Array(plain[(offset + 5)..<(offset + 5 + length)])
        offset += 5 + length
        if offset > BackupFormat.frameSize {
            plain.removeFirst(offset)
            offset = 0
        }
        switch type {
        case 1:
            do { return .begin(try JSONDecoder().decode(BackupEntry.self, from: Data(bytes))) } catch { throw BackupError.damaged("an entry header does not parse") }
        case 2: return .data(bytes)
        case 3: return .end
        default: throw BackupError.damaged("unknown record type \(type)")
        }
    }

    /// The SHA-256 (hex) of the file, once it has been read to its end.
    package func digest() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// Opens frames until `count` bytes past the offset are at hand; false at the end.
    private func fill(_ count: Int) throws -> Bool {
        while plain.count - offset < count {
            if sawFinal {
                guard try read(1).isEmpty else { throw BackupError.damaged("bytes follow the last frame") }
                return false
            }
            let lengthBytes = try read(4)
            guard lengthBytes.count == 4 else { throw BackupError.damaged("the part is cut short (no last frame)") }
            let length = Int(lengthBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length >= BackupFormat.tagSize + 4, length <= BackupFormat.frameSize * 2 else { throw BackupError.damaged("a frame length is impossible") }
            let sealed = try read(length)
            guard sealed.count == length else { throw BackupError.damaged("the part is cut short") }
            let opened = try open(sealed)
            let rawLength = Int(opened.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard rawLength <= BackupFormat.frameSize else { throw BackupError.damaged("a frame is larger than frames are") }
            var deflated = ByteBuffer(bytes: opened.dropFirst(4))
            var inflated = ByteBuffer()
            inflated.reserveCapacity(max(rawLength, 1))
            do {
                try deflated.decompress(to: &inflated, with: .deflate())
            } catch {
                throw BackupError.damaged("a frame does not inflate")
            }
            guard inflated.readableBytes == rawLength else { throw BackupError.damaged("a frame inflates to the wrong length") }
            plain += inflated.readableBytesView
            index += 1
        }
        return true
    }

    private func open(_ sealed: [UInt8]) throws -> [UInt8] {
        let nonce = try BackupFormat.nonce(prefix: prefix, index: index)
        for final in [false, true] {
            if let box = try? ChaChaPoly.SealedBox(nonce: nonce, ciphertext: sealed.dropLast(BackupFormat.tagSize), tag: sealed.suffix(BackupFormat.tagSize)),
               let opened = try? ChaChaPoly.open(box, using: key, authenticating: BackupFormat.associatedData(context: context, final: final)) {
                sawFinal = final
                return Array(opened)
            }
        }
        throw BackupError.damaged("frame \(index) fails its authentication (damaged, or sealed with another key)")
    }

    private func read(_ count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        let bytes = Array(try file.read(upToCount: count) ?? Data())
        hasher.update(data: bytes)
        return bytes
    }
}

/// What a backup operation could not do.
package enum BackupError: Error, CustomStringConvertible, Equatable {
    case io(String)
    case damaged(String)
    case notFound(String)
    case refused(String)

    package var description: String {
        switch self {
        case .io(let reason): reason
        case .damaged(let reason): "the backup is damaged: \(reason)"
        case .notFound(let what): "no backup \(what)"
        case .refused(let reason): reason
        }
    }
}
