package import Foundation
import NIOCore
package import WardCore
import WardDocuments

/// The `s3://` destination of backups (`WARD_BACKUP_URL=s3://bucket/prefix`): a copy of each
/// backup under `<prefix>/<backup id>/`, the same files as its folder on the node, uploaded
/// with the documents' S3 client. The manifest goes up last, so a backup whose manifest is in
/// the bucket is whole there. Its files are sealed and signed before they leave the node: the
/// store holds no patient data, and a changed object fails `verify`.
package struct BackupBucket: Sendable {
    let store: S3ObjectStore
    /// `s3://bucket/prefix`, for messages and logs: no endpoint, no credentials.
    package let location: String

    /// What the bucket holds of one backup: its files and their sizes, and when the last of
    /// them was written.
    package struct Held: Sendable, Equatable {
        package var files: [String: Int] = [:]
        package var newest: Date?
        /// Whether its manifest, uploaded last, is there.
        package var isWhole: Bool { files["manifest.json"] != nil }
    }

    /// The bucket `WARD_BACKUP_URL` names, or nil when backups go to a directory.
    package static func configured(_ settings: WardSettings) throws -> BackupBucket? {
        guard let text = settings.backupURL, let url = URLComponents(string: text), url.scheme == "s3" else { return nil }
        do {
            let store = try S3ObjectStore(url: url, credentials: DocumentsModule.credentials(settings), setting: Setting.backupURL.environmentVariable)
            return BackupBucket(store: store, location: "s3://\(store.bucket)" + (store.prefix.isEmpty ? "" : "/\(store.prefix)"))
        } catch let error as ObjectStoreError {
            throw BackupError.refused(error.description)
        }
    }

    /// Uploads the backup in `folder`: each part; a check that the bucket lists every part at
    /// its size; then the manifest. Each request carries its body's SHA-256, signed, which S3
    /// checks, so a manifest in the bucket stands for the parts as they were verified here.
    func upload(_ manifest: BackupManifest, from folder: URL) async throws {
        let manifestFile = folder.appendingPathComponent("manifest.json")
        let expected = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.name, $0.bytes) })
        do {
            for file in manifest.files {
                _ = try await store.put("\(manifest.id)/\(file.name)", body: try .contents(of: folder.appendingPathComponent(file.name)))
            }
            let listed = try await held(manifest.id).files.filter { $0.key != "manifest.json" }
            guard listed == expected else {
                throw BackupError.io("the bucket lists the parts of \(manifest.id) as \(listed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) bytes" }.joined(separator: ", ")) after their upload, not as its manifest says")
            }
            _ = try await store.put("\(manifest.id)/manifest.json", body: try .contents(of: manifestFile))
        } catch let error as ObjectStoreError {
            throw BackupError.io("uploading backup \(manifest.id) to \(location) failed: \(error)")
        }
    }

    /// Every backup the bucket holds, whole or not, by id. Keys that are not a backup's
    /// (another installation's objects under the same prefix) are left out, so nothing else
    /// is ever pruned.
    package func inventory() async throws -> [String: Held] {
        var held: [String: Held] = [:]
        for object in try await listing(prefix: "") {
            let path = object.key.split(separator: "/", maxSplits: 1).map(String.init)
            guard path.count == 2, Backups.isBackupID(path[0]), !path[1].contains("/") else { continue }
            held[path[0], default: Held()].files[path[1]] = object.size
            if let modified = object.modified, modified > (held[path[0]]?.newest ?? .distantPast) { held[path[0]]?.newest = modified }
        }
        return held
    }

    /// What the bucket holds of backup `id`.
    func held(_ id: String) async throws -> Held {
        var held = Held()
        for object in try await listing(prefix: "\(id)/") {
            held.files[String(object.key.dropFirst(id.count + 1))] = object.size
        }
        return held
    }

    /// The manifest of backup `id` as the bucket holds it (not yet verified), or nil.
    func manifest(_ id: String) async throws -> BackupManifest? {
        let bytes: ByteBuffer
        do {
            // A manifest names its parts and counts rows: kilobytes, even for a thousand tenants.
            bytes = try await store.get("\(id)/manifest.json", range: nil).collect(upTo: 64 << 20)
        } catch ObjectStoreError.notFound {
            return nil
        } catch let error as ObjectStoreError {
            throw BackupError.io("reading \(id)/manifest.json from \(location) failed: \(error)")
        }
        do {
            return try JSONDecoder().decode(BackupManifest.self, from: Data(bytes.readableBytesView))
        } catch {
            throw BackupError.damaged("\(id)/manifest.json in \(location) does not parse")
        }
    }

    /// Downloads `files` of backup `id` into `folder` (which exists), a buffer at a time.
    func download(_ id: String, files: [String], into folder: URL) async throws {
        for file in files {
            let target = folder.appendingPathComponent(file)
            guard FileManager.default.createFile(atPath: target.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: target.path) else { throw BackupError.io("cannot create \(target.path)") }
            defer { try? handle.close() }
            do {
                for try await buffer in try await store.get("\(id)/\(file)", range: nil) { try handle.write(contentsOf: buffer.readableBytesView) }
            } catch ObjectStoreError.notFound {
                throw BackupError.damaged("\(id)/\(file) is missing from \(location)")
            } catch let error as ObjectStoreError {
                throw BackupError.io("downloading \(id)/\(file) from \(location) failed: \(error)")
            }
        }
    }

    /// Removes backup `id` from the bucket: its manifest first, so a removal cut short leaves
    /// a backup that is plainly unfinished rather than one that looks whole and is not.
    func remove(_ id: String, files: some Sequence<String>) async throws {
        let files = Array(files)
        let ordered = files.filter { $0 == "manifest.json" } + files.filter { $0 != "manifest.json" }
        do {
            for file in ordered { try await store.delete("\(id)/\(file)") }
        } catch let error as ObjectStoreError {
            throw BackupError.io("removing backup \(id) from \(location) failed: \(error)")
        }
    }

    /// The newest whole backup in the bucket, for `ward check --deploy` and every node's
    /// `/metrics`: ids begin with their time, so the folders are read newest first until one
    /// holds a manifest; usually one listing of the folders and one manifest read.
    package func newest() async throws -> BackupManifest? {
        let ids: [String]
        do {
            ids = try await store.folders(prefix: "").filter(Backups.isBackupID).sorted(by: >)
        } catch let error as ObjectStoreError {
            throw BackupError.io("listing \(location) failed: \(error)")
        }
        for id in ids {
            if let manifest = try await manifest(id), manifest.id == id { return manifest }
        }
        return nil
    }

    private func listing(prefix: String) async throws -> [S3ObjectStore.Listed] {
        do {
            return try await store.objects(prefix: prefix)
        } catch let error as ObjectStoreError {
            throw BackupError.io("listing \(location) failed: \(error)")
        }
    }
}
