import Foundation
import HummingbirdTesting
import Testing
import WardBackup
import WardCore
import WardJobs
import WardServer
import WardTestSupport

/// Backups to an `s3://` destination, against the suite's moto server, looked into with boto3.
@Suite("Backups in a bucket")
struct BucketBackupTests {
    @Test("a backup goes up to the bucket, manifest included; with the node's copy gone, a fresh node verifies and restores it from the bucket",
          arguments: TestBackend.allCases)
    func roundTrip(_ backend: TestBackend) async throws {
        guard !backend.leftOut else { return }
        let server = try await S3Server.shared()
        let prefix = Self.prefix()
        let settings = try await Self.settings(prefix: prefix)
        let made = Made()
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("admin@acme.example", roles: ["tenant_admin", "doctor"])
                let backups = try node.backups()
                try await node.test { client in
                    let token = try await client.token("admin@acme.example")
                    let patient = try await client.patient(token, "Bucketina")
                    let scan = Array("%PDF-1.7\n".utf8) + (0..<80_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
                    let filed = try await client.upload(scan, type: "application/pdf", patient: patient, token: token)
                    #expect(filed.status == .created)

                    let manifest = try await backups.create(tenant: "acme")

                    let part = try #require(manifest.parts.first)
                    let listing = try await server.list(prefix: "\(prefix)/", needle: Array("Bucketina".utf8))
                    #expect(Set(listing.keys) == ["\(prefix)/\(manifest.id)/manifest.json", "\(prefix)/\(manifest.id)/\(part.file)"])
                    #expect(listing.sizes["\(prefix)/\(manifest.id)/\(part.file)"] == part.bytes)
                    #expect(listing.plaintextFound == false)
                    #expect(try await backups.list().map { [$0.id, "\($0.local)", "\($0.remote)"] } == [[manifest.id, "true", "true"]])
                    // The node's disk is lost; the bucket still lists it.
                    try FileManager.default.removeItem(at: backups.directory.appendingPathComponent(manifest.id))
                    #expect(try await backups.list().map { [$0.id, "\($0.local)", "\($0.remote)"] } == [[manifest.id, "false", "true"]])
                    await made.set(manifest, patient: patient, document: try #require(filed.json["id"] as? String), scan: scan)
                }
            }
        }
        let (manifest, patient, document, scan) = try await made.value()
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                let backups = try node.backups()
                // This node never made a backup: /metrics reports the bucket's newest once it has looked.
                let module = try #require(node.services.modules.compactMap { $0 as? BackupModule }.first)
                try await node.test { client in
                    let before = try await client.execute(uri: "/metrics", method: .get).text
                    #expect(!before.contains("backup_last_success_timestamp_seconds "))
                    await module.lookAtBucket()
                    let after = try await client.execute(uri: "/metrics", method: .get).text
                    #expect(after.contains("backup_last_success_timestamp_seconds "))
                }
                let checks = try await backups.verify(manifest.id)
                #expect(checks.map(\.slug) == ["acme"] && checks.allSatisfy { $0.problem == nil })
                let restored = try await backups.restore(manifest.id)
                #expect(restored.map(\.slug) == ["acme"] && restored.first?.status == .active)
                // The downloads are gone; nothing of the backup stays on this node.
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: backups.directory.path)) ?? []).isEmpty)
                try await node.test { client in
                    let token = try await client.token("admin@acme.example")
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)", token: token).status == .ok)
                    let content = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(document)/content", token: token)
                    #expect(content.status == .ok && Array(content.body.readableBytesView) == scan)
                }
            }
        }
    }

    @Test("a damaged object in the bucket fails verify and restore, which change nothing there or on the node")
    func damagedRemote() async throws {
        let server = try await S3Server.shared()
        let prefix = Self.prefix()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: try await Self.settings(prefix: prefix)) { node in
                try await node.staff("admin@acme.example", roles: ["tenant_admin"])
                let backups = try node.backups()
                let manifest = try await backups.create(tenant: "acme")
                let part = try #require(manifest.parts.first)
                try await server.corrupt("\(prefix)/\(manifest.id)/\(part.file)", at: part.bytes / 2)
                let before = try await server.list(prefix: "\(prefix)/")

                // The bucket's copy fails; the node's own still verifies.
                let remote = try await backups.verify(manifest.id, remote: true)
                #expect(remote.count == 1 && remote[0].problem?.contains("checksum") == true)
                #expect(try await backups.verify(manifest.id).allSatisfy { $0.problem == nil })
                // Without the node's copy, restore downloads the damaged part and refuses it.
                try FileManager.default.removeItem(at: backups.directory.appendingPathComponent(manifest.id))
                await #expect(throws: BackupError.self) { try await backups.restore(manifest.id, tenant: "acme", as: "acme-restored") }

                #expect(try await node.services.storage.tenants.fetch(slug: "acme-restored") == nil)
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: backups.directory.path)) ?? []).isEmpty)
                let after = try await server.list(prefix: "\(prefix)/")
                #expect(after.keys == before.keys && after.sizes == before.sizes)
            }
        }
    }

    @Test("prune keeps 30 days on the node and 90 in the bucket: older than both is gone from both, between is kept in the bucket only, the newest stays, and a backup the bucket lacks stays on the node")
    func pruneBothSides() async throws {
        let server = try await S3Server.shared()
        let prefix = Self.prefix()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: try await Self.settings(prefix: prefix)) { node in
                try await node.services.storage.tenants.create(slug: "acme", name: "Acme")
                let backups = try node.backups()
                #expect(backups.retentionDays == 30 && backups.remoteRetentionDays == 90)
                let now = Date()
                let ancient = try await backups.create(tenant: "acme", now: now.addingTimeInterval(-100 * 86_400))
                let older = try await backups.create(tenant: "acme", now: now.addingTimeInterval(-60 * 86_400))
                // Made on the node, never uploaded: its only copy.
                let stranded = try await backups.createLocally(tenant: "acme", now: now.addingTimeInterval(-45 * 86_400))
                let recent = try await backups.create(tenant: "acme", now: now.addingTimeInterval(-3 * 86_400))

                let pruned = try await backups.prune(olderThan: backups.retentionDays, now: now)

                #expect(pruned.local == [older.id, ancient.id])
                #expect(pruned.remote == [ancient.id])
                let listed = try await backups.list().map { [$0.id, "\($0.local)", "\($0.remote)"] }
                #expect(listed == [[recent.id, "true", "true"], [stranded.id, "true", "false"], [older.id, "false", "true"]])
                let keys = try await server.list(prefix: "\(prefix)/").keys
                #expect(!keys.contains { $0.contains(ancient.id) } && keys.contains { $0.contains(older.id) })

                // Past both retentions but the newest of each side: kept.
                let again = try await backups.prune(olderThan: 1, remoteOlderThan: 1, now: now.addingTimeInterval(10 * 86_400))
                #expect(again.local == [stranded.id] && again.remote == [older.id])
                #expect(try await backups.list().map(\.id) == [recent.id])
                #expect(Set(try await server.list(prefix: "\(prefix)/").keys.map { $0.split(separator: "/")[1] }) == [Substring(recent.id)])
            }
        }
    }

    @Test("the nightly job uploads, and /metrics and check --deploy read the bucket's backup; when the upload fails the job fails, the node's copy stays and is uploaded later")
    func nightly() async throws {
        let server = try await S3Server.shared()
        let prefix = Self.prefix()
        try await withTestSite(.sqlite) { site in
            // Refused credentials: the bucket answers 403 to every request.
            try await TestNode.with(site, settings: try await Self.settings(prefix: prefix, secret: "not-the-secret-0123456789")) { node in
                try await node.services.storage.tenants.create(slug: "acme", name: "Acme")
                let backups = try node.backups()
                let job = try #require(try await NodeJobs.scheduler(node.services).fire(at: Self.night()).first { $0.kind == "backup.nightly" })
                let queue = node.services.queue

                #expect(try await runWorkers([NodeJobs.worker(node.services)], until: { try await queue.find(job.id)?.state == .failed }, timeout: .seconds(120)))

                let failure = try await queue.find(job.id)?.lastError ?? ""
                #expect(failure.contains("s3://\(server.bucket)/\(prefix)") && failure.contains("403") && !failure.contains("not-the-secret"))
                let local = Backups.list(in: backups.directory)
                #expect(local.count == 1 && !Backups.isUploaded(local[0].id, in: backups.directory))
                // `ward backup create` fails the same way, and says where the backup stays.
                do {
                    _ = try await backups.create(tenant: "acme")
                    Issue.record("a backup was created without its upload")
                } catch let error as BackupError {
                    #expect(error.description.contains("403") && error.description.contains("stays in \(backups.directory.path)"))
                }
                #expect(try await server.list(prefix: "\(prefix)/").keys.isEmpty)
                let check = await DeployCheck.backups(node.services.settings)
                #expect(!check.passed && check.detail.contains("cannot be read") && !check.detail.contains("not-the-secret"))
                try await node.test { client in
                    let text = try await client.execute(uri: "/metrics", method: .get).text
                    #expect(text.contains("backup_runs_total{outcome=\"failed\"} 1"))
                    #expect(!text.contains("backup_last_success_timestamp_seconds "))
                }
            }
            try await TestNode.with(site, settings: try await Self.settings(prefix: prefix)) { node in
                let backups = try node.backups()
                let stranded = try #require(Backups.list(in: backups.directory).first)
                // The next night, with the credentials put right.
                let job = try #require(try await NodeJobs.scheduler(node.services).fire(at: Self.night().addingTimeInterval(86_400)).first { $0.kind == "backup.nightly" })
                let queue = node.services.queue

                #expect(try await runWorkers([NodeJobs.worker(node.services)], until: { try await queue.find(job.id)?.state == .succeeded }, timeout: .seconds(120)))

                let listed = try await backups.list()
                #expect(listed.count == 3 && listed.allSatisfy { $0.local && $0.remote } && listed.contains { $0.id == stranded.id })
                let check = await DeployCheck.backups(node.services.settings)
                #expect(check.passed && check.detail.contains(listed[0].id) && check.detail.contains("s3://\(server.bucket)/\(prefix)"))
                try await node.test { client in
                    let text = try await client.execute(uri: "/metrics", method: .get).text
                    #expect(text.contains("backup_runs_total{outcome=\"ok\"} 1"))
                    #expect(text.contains("backup_last_success_timestamp_seconds "))
                }
            }
        }
    }

    @Test("an s3:// destination without a bucket, without credentials, or under the documents' prefix is refused by the settings")
    func refusedSettings() async throws {
        try await withTestSite(.sqlite) { site in
            let credentials = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"]
            for (given, reason) in [
                (["WARD_BACKUP_URL": "s3://"].merging(credentials) { $1 }, "needs a bucket"),
                (["WARD_BACKUP_URL": "s3:///backups"].merging(credentials) { $1 }, "needs a bucket"),
                (["WARD_BACKUP_URL": "s3://ward-backups/clinic"], "needs AWS_ACCESS_KEY_ID"),
                (["WARD_BACKUP_URL": "s3://ward/docs/backups", "WARD_STORAGE_URL": "s3://ward/docs"].merging(credentials) { $1 }, "prefix of their own"),
                (["WARD_BACKUP_URL": "ftp://backups.example/ward"], "file:// directory or an s3://"),
            ] {
                do {
                    _ = try site.settings(given)
                    Issue.record("\(given["WARD_BACKUP_URL"] ?? "") was accepted")
                } catch let error as SettingsError {
                    #expect(error.description.hasPrefix("WARD_BACKUP_URL: ") && error.description.contains(reason), "\(error)")
                }
            }
            #expect(try site.settings(["WARD_BACKUP_URL": "s3://ward/backups", "WARD_STORAGE_URL": "s3://ward/documents"].merging(credentials) { $1 }).backupRemoteRetentionDays == 90)
        }
    }

    /// A node's settings for backups under `prefix` of the suite's bucket.
    static func settings(prefix: String, secret: String? = nil) async throws -> [String: String] {
        let server = try await S3Server.shared()
        return ["WARD_BACKUP_URL": "s3://\(server.bucket)/\(prefix)?endpoint=\(server.endpoint)&region=us-east-1",
                "AWS_ACCESS_KEY_ID": server.accessKeyID, "AWS_SECRET_ACCESS_KEY": secret ?? server.secretAccessKey]
    }

    static func prefix() -> String { "backups-\(UUID().uuidString.prefix(8).lowercased())" }

    /// Today at 02:15:30 UTC, when the nightly schedule fires.
    /// The next night's firing of `backup.nightly` (the installation, just made, gets none before it).
    static func night() -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(bySettingHour: 2, minute: 15, second: 30, of: Date().addingTimeInterval(86_400))!
    }
}

/// What the first node's test hands to the second.
private actor Made {
    private var made: (BackupManifest, String, String, [UInt8])?
    func set(_ manifest: BackupManifest, patient: String, document: String, scan: [UInt8]) { made = (manifest, patient, document, scan) }
    func value() throws -> (BackupManifest, String, String, [UInt8]) { try #require(made) }
}
