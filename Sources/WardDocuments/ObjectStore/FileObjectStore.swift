package import Foundation
import NIOCore
import NIOFoundationCompat

/// Objects as files under a directory: written to a temporary name, flushed to disk and
/// renamed, so an object is either whole or absent after a crash.
package struct FileObjectStore: ObjectStore {
    package let root: URL
    package var kind: String { "file" }
    /// How much one read hands over.
    static let readSize = 64 * 1024

    package init(root: URL) {
        self.root = root
    }

    func url(_ key: String) throws -> URL {
        // Keys are built by Ward from ids; anything that could leave the root is a bug.
        guard !key.isEmpty, !key.split(separator: "/").contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }), !key.hasPrefix("/") else {
            throw ObjectStoreError.misconfigured("object key \(key) is not a relative path")
        }
        return root.appendingPathComponent(key)
    }

    package func put(_ key: String, body: ByteStream) async throws -> Int {
        let target = try url(key)
        let directory = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw ObjectStoreError.unavailable("cannot create \(temporary.path)")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        var written = 0
        do {
            for try await buffer in body {
                try handle.write(contentsOf: buffer.readableBytesView)
                written += buffer.readableBytes
            }
            try handle.synchronize()
            try handle.close()
            // Document keys are fresh ids: the target never exists, and a rename is atomic.
            try FileManager.default.moveItem(at: temporary, to: target)
            // The rename itself reaches the disk before the caller commits the row naming it.
            let folder = try FileHandle(forReadingFrom: directory)
            defer { try? folder.close() }
            try folder.synchronize()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        return written
    }

    package func get(_ key: String, range: Range<Int>?) async throws -> ByteStream {
        let file = try url(key)
        guard let handle = try? FileHandle(forReadingFrom: file) else { throw ObjectStoreError.notFound(key) }
        let reader = FileReader(handle: handle, offset: range?.lowerBound ?? 0, end: range?.upperBound)
        try reader.seek()
        return ByteStream { try reader.next() }
    }

    package func delete(_ key: String) async throws {
        do {
            try FileManager.default.removeItem(at: try url(key))
        } catch CocoaError.fileNoSuchFile {
        } catch let error as NSError where error.domain == NSCocoaErrorDomain && error.code == NSFileNoSuchFileError {
        }
    }

    package func list(prefix: String) async throws -> [String] {
        let base = root.standardizedFileURL.path + "/"
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var keys: [String] = []
        for case let file as URL in walker where (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let path = file.standardizedFileURL.path
            guard path.hasPrefix(base) else { continue }
            let key = String(path.dropFirst(base.count))
            if key.hasPrefix(prefix), !file.lastPathComponent.hasPrefix(".") { keys.append(key) }
        }
        return keys.sorted()
    }

    package func check() async throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard FileManager.default.isWritableFile(atPath: root.path) else { throw ObjectStoreError.unavailable("\(root.path) is not writable") }
    }
}

extension ByteStream {
    /// The bytes of the file at `url`, read a buffer at a time (a backup's part, uploaded
    /// whatever its size without being held in memory).
    package static func contents(of url: URL) throws -> ByteStream {
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw ObjectStoreError.notFound(url.path) }
        let reader = FileReader(handle: handle, offset: 0, end: nil)
        return ByteStream { try reader.next() }
    }
}

/// Reads a file a buffer at a time, up to an end offset.
// Unchecked: one task pulls it.
final class FileReader: @unchecked Sendable {
    private let handle: FileHandle
    private var offset: Int
    private let end: Int?

    init(handle: FileHandle, offset: Int, end: Int?) {
        self.handle = handle
        self.offset = offset
        self.end = end
    }

    func seek() throws {
        try handle.seek(toOffset: UInt64(offset))
    }

    func next() throws -> ByteBuffer? {
        var wanted = FileObjectStore.readSize
        if let end { wanted = min(wanted, end - offset) }
        guard wanted > 0, let data = try handle.read(upToCount: wanted), !data.isEmpty else {
            try? handle.close()
            return nil
        }
        offset += data.count
        return ByteBuffer(bytes: data)
    }

    deinit { try? handle.close() }
}
