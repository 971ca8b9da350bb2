import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing
import WardAudit
import WardBackup
import WardDocuments
import WardJobs
import WardServer
import WardStorage
import WardTestSupport

private let password = "correct-stable-fossil-lamp"

@Suite("Backups")
struct BackupTests {
    @Test("a backup taken while the clinic writes holds every write acknowledged before it; restored on an empty node, its trail verifies, its counts match and its documents read back",
          arguments: TestBackend.allCases)
    func roundTrip(_ backend: TestBackend) async throws {
        guard !backend.leftOut else { return }
        let destination = Self.destination()
        defer { try? FileManager.default.removeItem(atPath: destination) }
        let settings = ["WARD_BACKUP_URL": "file://\(destination)"]
        let taken = Taken()
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("admin@acme.example", roles: ["tenant_admin", "doctor"])
                let backups = try node.backups()
                try await node.test { client in
                    let token = try await client.token("admin@acme.example")
                    var acknowledged: [String] = []
                    for index in 0..<12 { acknowledged.append(try await client.patient(token, "Before\(index)")) }
                    let scan = Array("%PDF-1.7\n".utf8) + (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                    let filed = try await client.upload(scan, type: "application/pdf", patient: acknowledged[0], token: token)
                    #expect(filed.status == .created)
                    // An audited read, journaled and not yet moved into the trail.
                    #expect(try await client.send(.get, "/api/v1/patients/\(acknowledged[1])", token: token).status == .ok)
                    // The clinic keeps registering patients while the backup runs.
                    let during = Task {
                        var ids: [String] = []
                        for index in 0..<30 { ids.append(try await client.patient(token, "During\(index)")) }
                        return ids
                    }
                    let manifest = try await backups.create(tenant: "acme")
                    let written = try await during.value
                    let part = try #require(manifest.parts.first)
                    #expect(manifest.parts.count == 1 && part.tenant.slug == "acme" && part.documents == 1)
                    let copied = try #require(part.rows["patients"])
                    #expect(copied >= 12 && copied <= 12 + written.count)
                    #expect((part.auditHead?.seq ?? 0) > 0)
                    let checks = try await backups.verify(manifest.id)
                    #expect(checks.map(\.slug) == ["acme"] && checks.allSatisfy { $0.problem == nil })
                    await taken.set(manifest: manifest, patients: acknowledged, document: filed.json["id"] as? String, scan: scan)
                }
            }
        }
        let (manifest, patients, documentID, scan) = await taken.value
        let backup = try #require(manifest)
        // The node is gone; an empty one with the same master key restores the clinic.
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                let restored = try await node.backups().restore(backup.id)
                #expect(restored.map(\.slug) == ["acme"] && restored.first?.status == .active)
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                let part = try #require(backup.parts.first)
                #expect(scope.tenant.id != part.tenant.id)
                #expect(try await Self.count("patients", in: scope) == part.rows["patients"])
                #expect(try await Self.count("audit_events", in: scope) == part.rows["audit_events"])
                let verification = try await node.services.audit.verify(scope, witness: AuditWitness(storage: node.services.storage))
                #expect(verification.firstBreak == nil && verification.checked == Int(part.auditHead?.seq ?? -1))
                try await node.test { client in
                    let token = try await client.token("admin@acme.example")
                    for id in patients {
                        #expect(try await client.send(.get, "/api/v1/patients/\(id)", token: token).status == .ok)
                    }
                    let content = try await client.send(.get, "/api/v1/patients/\(patients[0])/documents/\(try #require(documentID))/content", token: token)
                    #expect(content.status == .ok && Array(content.body.readableBytesView) == scan)
                    // The restored clinic goes on working: a new patient, a new audit event.
                    _ = try await client.patient(token, "After")
                }
                let after = try await node.services.audit.verify(scope, witness: AuditWitness(storage: node.services.storage))
                #expect(after.firstBreak == nil && after.checked > verification.checked)
            }
        }
    }

    @Test("a node backup carries the platform administrators: restored onto an empty node they sign in to the console as before; a node that has one keeps its own",
          arguments: TestBackend.allCases)
    func administrators(_ backend: TestBackend) async throws {
        guard !backend.leftOut else { return }
        let destination = Self.destination()
        defer { try? FileManager.default.removeItem(atPath: destination) }
        let settings = ["WARD_BACKUP_URL": "file://\(destination)"]
        let taken = Taken()
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("admin@acme.example", roles: ["tenant_admin"])
                try await node.services.identity.createPlatformAdmin(email: "ops@ward.test", name: "Olu Operator", password: "correct-stable-fossil-lamp")
                try await node.services.identity.createPlatformAdmin(email: "night@ward.test", name: "Nia Night", password: "correct-stable-fossil-lamp")
                let backups = try node.backups()
                let manifest = try await backups.create()
                #expect(manifest.platform?.administrators == 2)
                #expect(try await backups.verify(manifest.id).map(\.slug) == ["acme", "platform"])
                // A tenant's backup holds no control-plane data.
                #expect(try await backups.create(tenant: "acme").platform == nil)
                // The part is sealed: neither address nor hash is readable in it.
                let part = try Data(contentsOf: URL(fileURLWithPath: destination).appendingPathComponent(manifest.id).appendingPathComponent("platform.part"))
                #expect(part.range(of: Data("ops@ward.test".utf8)) == nil && part.range(of: Data("$2".utf8)) == nil)
                await taken.set(manifest: manifest, patients: [], document: nil, scan: [])
            }
        }
        let backup = try #require(await taken.value.0)
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                // This node already has its own "night@ward.test": it keeps it.
                try await node.services.identity.createPlatformAdmin(email: "night@ward.test", name: "Local Night", password: "another-stable-fossil-lamp")
                let restored = try await node.backups().restore(backup.id)
                #expect(restored.map(\.slug) == ["acme"])
                try await node.test { client in
                    for (email, password, ok) in [("ops@ward.test", "correct-stable-fossil-lamp", true), ("night@ward.test", "another-stable-fossil-lamp", true),
                                                  ("night@ward.test", "correct-stable-fossil-lamp", false)] {
                        let login = try await client.execute(uri: "/platform/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                                             body: ByteBuffer(string: #"{"email":"\#(email)","password":"\#(password)"}"#))
                        #expect((login.status == .ok) == ok, "\(email): \(login.status) \(login.text)")
                    }
                }
            }
        }
    }

    @Test("with the schemas under an owner role, a backup restores under a new slug: the owner loads it, the serving role reads and writes it")
    func restoreWithSeparateRoles() async throws {
        let destination = Self.destination()
        defer { try? FileManager.default.removeItem(atPath: destination) }
        try await withSeparateRolesSite { site, ownerURL in
            try await TestNode.with(site, settings: ["WARD_BACKUP_URL": "file://\(destination)", "DATABASE_OWNER_URL": ownerURL]) { node in
                try await node.staff("admin@acme.example", roles: ["tenant_admin", "doctor"])
                let backups = try node.backups(), tenants = node.services.storage.tenants
                try await node.test { client in
                    let token = try await client.token("admin@acme.example")
                    let patient = try await client.patient(token, "Original")
                    let manifest = try await backups.create(tenant: "acme")
                    let copy = try #require(try await backups.restore(manifest.id, tenant: "acme", as: "acme-copy").first)
                    #expect(copy.status == .active)
                    let scope = try await tenants.activeScope(slug: "acme-copy")
                    #expect(try await Self.count("patients", in: scope) == 1)
                    // The copy's rows, under the serving role: read, and written to.
                    let copied = try await client.send(.get, "/api/v1/patients/\(patient)", token: try await client.token("admin@acme.example", tenant: "acme-copy"),
                                                       tenant: "acme-copy")
                    #expect(copied.status == .ok && copied.json["given_name"] as? String == "Original")
                    _ = try await client.patient(try await client.token("admin@acme.example", tenant: "acme-copy"), "After", tenant: "acme-copy")
                    #expect(try await Self.count("patients", in: scope) == 2)
                }
            }
        }
    }

    @Test("a tenant restored under a new slug beside the original is its own: new id, new document key, nothing shared", arguments: TestBackend.allCases)
    func restoreAsNewSlug(_ backend: TestBackend) async throws {
        try await Self.withBackupNode(backend) { site, node, destination in
            try await node.staff("admin@acme.example", roles: ["tenant_admin", "doctor"])
            let backups = try node.backups()
            let tenants = node.services.storage.tenants
            let documents = try #require(node.services.modules.compactMap { $0 as? DocumentsModule }.first?.documents)
            try await node.test { client in
                let token = try await client.token("admin@acme.example")
                let patient = try await client.patient(token, "Original")
                let filed = try await client.upload(Array("%PDF-1.7\nreferral".utf8), type: "application/pdf", patient: patient, token: token)
                let documentID = try #require(filed.json["id"] as? String)
                let manifest = try await backups.create(tenant: "acme")
                // The original slug is taken here: refused, and nothing changes.
                await #expect(throws: BackupError.self) { try await backups.restore(manifest.id, tenant: "acme") }
                let copy = try #require(try await backups.restore(manifest.id, tenant: "acme", as: "acme-copy").first)
                let original = try await tenants.activeScope(slug: "acme").tenant
                #expect(copy.id != original.id)
                let copyObjects = try await documents.store.list(prefix: PatientDocuments.prefix(of: copy))
                #expect(copyObjects.count == 1)
                // Sealed anew under the copy's key: the original's key does not open it, and the bytes differ.
                #expect(try await documents.store.list(prefix: PatientDocuments.prefix(of: original)).count == 1)

                let copyToken = try await client.token("admin@acme.example", tenant: "acme-copy")
                let content = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(documentID)/content", token: copyToken)
                #expect(content.status == .ok && String(buffer: content.body) == "%PDF-1.7\nreferral")
                // A patient registered in the copy is not in the original, and a token of one is refused by the other.
                let onlyInCopy = try await client.patient(copyToken, "CopyOnly")
                #expect(try await client.send(.get, "/api/v1/patients/\(onlyInCopy)", token: token).status == .notFound)
                #expect([.unauthorized, .forbidden].contains(try await client.send(.get, "/api/v1/patients/\(patient)", token: token, tenant: "acme-copy").status))
                // Purging the original's documents leaves the copy's readable.
                try await documents.store.deleteAll(prefix: PatientDocuments.prefix(of: original))
                let still = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(documentID)/content", token: copyToken)
                #expect(still.status == .ok)
            }
        }
    }

    @Test("a damaged part, a changed manifest and a foreign master key fail verify and restore, which change nothing")
    func damage() async throws {
        try await Self.withBackupNode(.sqlite) { site, node, destination in
            try await node.staff("admin@acme.example", roles: ["tenant_admin"])
            let backups = try node.backups()
            let manifest = try await backups.create(tenant: "acme")
            let folder = URL(fileURLWithPath: destination).appendingPathComponent(manifest.id)
            let part = folder.appendingPathComponent(try #require(manifest.parts.first).file)
            var bytes = try Data(contentsOf: part)
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: part)
            let checks = try await backups.verify(manifest.id)
            #expect(checks.count == 1 && checks[0].problem?.contains("checksum") == true)
            await #expect(throws: BackupError.self) { try await backups.restore(manifest.id, tenant: "acme", as: "acme-restored") }
            #expect(try await node.services.storage.tenants.fetch(slug: "acme-restored") == nil)

            // A manifest whose row counts were edited no longer carries its MAC.
            let good = try await backups.create(tenant: "acme")
            let manifestFile = URL(fileURLWithPath: destination).appendingPathComponent(good.id).appendingPathComponent("manifest.json")
            var edited = good
            edited.parts[0].rows["patients"] = 99
            try JSONEncoder().encode(edited).write(to: manifestFile)
            await #expect(throws: BackupError.self) { try await backups.verify(good.id) }

            // A node holding another master key cannot open it, and says which key it needs.
            let stranger = try Backups(storage: node.services.storage, audit: node.services.audit, documents: nil,
                                       settings: try site.settings(["WARD_SECRET_KEY": "another-secret-key-0123456789-abcdefghij",
                                                                    "WARD_BACKUP_URL": "file://\(destination)"]),
                                       wardVersion: WardApplication.version, logger: TestLogs.quiet)
            let third = try await backups.create(tenant: "acme")
            do {
                _ = try await stranger.verify(third.id)
                Issue.record("a foreign key verified the backup")
            } catch let error as BackupError {
                #expect(error.description.contains("master key this node does not hold"))
            }
        }
    }

    @Test("a tenant not there, a backup id outside the directory, --as without --tenant and a backup of the other database are refused, changing nothing")
    func refusals() async throws {
        guard !TestBackend.sqlite.leftOut else { return }
        let destination = Self.destination()
        defer { try? FileManager.default.removeItem(atPath: destination) }
        let settings = ["WARD_BACKUP_URL": "file://\(destination)"]
        let made = Taken()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.services.storage.tenants.create(slug: "acme", name: "Acme")
                let backups = try node.backups()
                await #expect(throws: BackupError.self) { try await backups.create(tenant: "nobody") }
                #expect(try await backups.list().isEmpty)
                let manifest = try await backups.create(tenant: "acme")
                await #expect(throws: BackupError.notFound("../\(manifest.id)")) { try await backups.restore("../\(manifest.id)") }
                await #expect(throws: BackupError.notFound("tenant 'nobody' in backup \(manifest.id)")) { try await backups.restore(manifest.id, tenant: "nobody") }
                await #expect(throws: BackupError.self) { try await backups.restore(manifest.id, as: "acme-copy") }
                #expect(try await node.services.storage.tenants.fetch(slug: "acme-copy") == nil)
                await made.set(manifest: manifest, patients: [], document: nil, scan: [])
            }
        }
        let backup = try #require(await made.value.0)
        try await withTestSite(.postgres) { site in
            try await TestNode.with(site, settings: settings) { node in
                do {
                    try await node.backups().restore(backup.id)
                    Issue.record("a SQLite backup was restored onto PostgreSQL")
                } catch let error as BackupError {
                    #expect(error.description.contains("of a sqlite node; this node runs on postgres"))
                }
                #expect(try await node.services.storage.tenants.fetch(slug: "acme") == nil)
            }
        }
    }

    @Test("a backup with migrations this build does not know is refused, naming both versions")
    func newerSchema() async throws {
        try await Self.withBackupNode(.sqlite) { site, node, destination in
            try await node.services.storage.tenants.create(slug: "acme", name: "Acme")
            let backups = try node.backups()
            var manifest = try await backups.create(tenant: "acme")
            manifest.parts[0].migrations.append(99_001)
            manifest.wardVersion = "9.0.0"
            try backups.keys.sign(&manifest)
            try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: destination).appendingPathComponent(manifest.id).appendingPathComponent("manifest.json"))
            do {
                try await backups.restore(manifest.id, tenant: "acme", as: "acme-new")
                Issue.record("a newer backup was restored")
            } catch let error as BackupError {
                #expect(error.description.contains("Ward 9.0.0") && error.description.contains("Ward \(WardApplication.version)") && error.description.contains("99001"))
            }
            #expect(try await node.services.storage.tenants.fetch(slug: "acme-new") == nil)
        }
    }

    @Test("prune removes backups past the retention and never the newest")
    func prune() async throws {
        try await Self.withBackupNode(.sqlite) { site, node, destination in
            try await node.services.storage.tenants.create(slug: "acme", name: "Acme")
            let backups = try node.backups()
            let now = Date()
            let old = try await backups.create(tenant: "acme", now: now.addingTimeInterval(-40 * 86_400))
            let recent = try await backups.create(tenant: "acme", now: now.addingTimeInterval(-3 * 86_400))
            #expect(try await backups.prune(olderThan: 30, now: now).local == [old.id])
            #expect(try await backups.list().map(\.id) == [recent.id])
            // Past the retention but the newest: kept.
            #expect(try await backups.prune(olderThan: 1, now: now).local.isEmpty)
            #expect(try await backups.list().map(\.id) == [recent.id])
        }
    }

    @Test("the nightly job backs up every live tenant, verifies the backup and prunes; /metrics and check --deploy see it", arguments: TestBackend.allCases)
    func nightly(_ backend: TestBackend) async throws {
        try await Self.withBackupNode(backend) { site, node, destination in
            for slug in ["acme", "birch"] { try await node.services.storage.tenants.create(slug: slug, name: slug.capitalized) }
            let backups = try node.backups()
            let stale = try await backups.create(tenant: "acme", now: Date().addingTimeInterval(-45 * 86_400))
            #expect(await DeployCheck.backups(node.services.settings).passed == false)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            // The next night (the installation, just made, gets no firing from before it existed).
            let night = calendar.date(bySettingHour: 2, minute: 15, second: 30, of: Date().addingTimeInterval(86_400))!
            let fired = try await NodeJobs.scheduler(node.services).fire(at: night)
            let job = try #require(fired.first { $0.kind == "backup.nightly" })
            let queue = node.services.queue
            #expect(try await runWorkers([NodeJobs.worker(node.services)], until: { try await queue.find(job.id)?.state == .succeeded }, timeout: .seconds(120)))
            let all = try await backups.list()
            #expect(all.count == 1 && all[0].manifest.scope == "node" && all[0].manifest.parts.map(\.tenant.slug) == ["acme", "birch"])
            #expect(!all.contains { $0.id == stale.id })
            let check = await DeployCheck.backups(node.services.settings)
            #expect(check.passed && check.detail.contains(all[0].id))
            try await node.test { client in
                let text = try await client.execute(uri: "/metrics", method: .get).text
                #expect(text.contains("backup_runs_total{outcome=\"ok\"} 1"))
                #expect(text.contains("backup_last_success_timestamp_seconds "))
            }
        }
    }

    /// Runs `body` with a node on a fresh site of `backend` whose backups go to a directory of
    /// the test's own, removed afterwards.
    static func withBackupNode(_ backend: TestBackend, _ body: (TestSite, TestNode, String) async throws -> Void) async throws {
        let destination = Self.destination()
        defer { try? FileManager.default.removeItem(atPath: destination) }
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: ["WARD_BACKUP_URL": "file://\(destination)"]) { node in
                try await body(site, node, destination)
            }
        }
    }

    static func destination() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ward-backups-\(UUID().uuidString.prefix(8).lowercased())").path
    }

    static func count(_ table: String, in scope: TenantScope) async throws -> Int {
        let name = try scope.table(table)
        return try await scope.read { database in
            try await database.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(name).first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }
}

/// What the first node's test hands to the second.
private actor Taken {
    var value: (BackupManifest?, [String], String?, [UInt8]) = (nil, [], nil, [])
    func set(manifest: BackupManifest, patients: [String], document: String?, scan: [UInt8]) { value = (manifest, patients, document, scan) }
}

extension TestNode {
    func backups() throws -> Backups {
        try Backups(storage: services.storage, audit: services.audit, documents: services.modules.compactMap { $0 as? DocumentsModule }.first?.documents,
                    settings: services.settings, wardVersion: WardApplication.version, logger: TestLogs.quiet)
    }

    /// Creates tenant `tenant` (if needed) and a user with `roles`.
    func staff(_ email: String, roles: [String], tenant: String = "acme") async throws {
        let tenants = services.storage.tenants
        if try await tenants.find(slug: tenant) == nil { try await tenants.create(slug: tenant, name: tenant.capitalized) }
        let scope = try await tenants.activeScope(slug: tenant)
        try await services.identity.seedCatalogue(in: scope)
        _ = try await services.identity.createUser(in: scope, email: email, name: "Staff", password: password, roles: roles, by: .system)
    }
}

extension TestClientProtocol {
    func token(_ email: String, tenant: String = "acme") async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": tenant, "email": email, "password": password])
        let response = try await execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        return try #require(response.json["access_token"] as? String)
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, token: String, tenant: String? = nil, json: Any? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if let tenant { headers[HTTPField.Name("X-Tenant-ID")!] = tenant }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    func patient(_ token: String, _ given: String, tenant: String? = nil) async throws -> String {
        let response = try await send(.post, "/api/v1/patients", token: token, tenant: tenant, json: ["given_name": given, "family_name": "Okafor", "birth_date": "1980-02-01"])
        return try #require(response.json["id"] as? String)
    }

    func upload(_ bytes: [UInt8], type: String, patient: String, token: String) async throws -> TestResponse {
        try await execute(uri: "/api/v1/patients/\(patient)/documents?title=Scan&category=lab_result", method: .post,
                          headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(bytes: bytes))
    }
}
