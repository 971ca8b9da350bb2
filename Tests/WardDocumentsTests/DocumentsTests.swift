import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import WardClinical
import WardCore
import WardDocuments
import WardPlatform
import WardServer
import WardTestSupport

/// Patients' documents through the API on both stores: a directory under the data directory
/// and a real S3-compatible server (moto, signatures checked), looked into with boto3.
@Suite("Patient documents")
struct DocumentsTests {
    /// The stored object of a document as the store holds it (never the plaintext).
    static func stored(_ store: StoreKind, node: TestNode, settings: [String: String], tenantID: String) async throws -> (keys: [String], plaintextFound: (_ needle: [UInt8]) async throws -> Bool) {
        switch store {
        case .file:
            let root = URL(fileURLWithPath: node.services.settings.dataDirectory).appendingPathComponent("documents/tenants/\(tenantID)")
            let files = (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []).filter { !$0.hasSuffix("documents") }
            return (files, { needle in
                try files.contains { try Data(contentsOf: root.appendingPathComponent($0)).range(of: Data(needle)) != nil }
            })
        case .s3:
            let server = try await S3Server.shared()
            let prefix = (URLComponents(string: settings["WARD_STORAGE_URL"]!)!.path.dropFirst()) + "/tenants/\(tenantID)/"
            let keys = try await server.list(prefix: String(prefix)).keys
            return (keys, { needle in try await server.list(prefix: String(prefix), needle: needle).plaintextFound })
        }
    }

    @Test("a document is filed, listed, described, downloaded whole and by range, and archived; every access is audited; the store holds only ciphertext",
          arguments: StoreKind.allCases, TestBackend.allCases)
    func lifecycle(_ store: StoreKind, _ backend: TestBackend) async throws {
        let settings = try await store.settings()
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("clerk@acme.test", roles: ["billing_clerk"])
                try await node.staff("auditor@acme.test", roles: ["auditor"])
                try await node.staff("doctor@beta.test", roles: ["doctor"], tenant: "beta")
                let tenantID = try await node.tenantID()
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor)
                    // Three chunks and a bit: ranges cross chunk boundaries.
                    let marker = Array("PATIENT-SECRET-MARKER-0042".utf8)
                    let bytes = Sample.pdf(200_000 - marker.count) + marker
                    let filed = try await client.upload(bytes, type: "application/pdf", patient: patient, token: doctor, title: "Blood panel, March",
                                                        extra: "&document_date=2026-03-14")
                    #expect(filed.status == .created)
                    let id = try #require(filed.json["id"] as? String)
                    #expect(filed.json["size"] as? Int == bytes.count)
                    #expect(filed.json["sha256"] as? String == Sample.sha256(bytes))
                    #expect(filed.json["category"] as? String == "lab_result")
                    #expect(filed.json["document_date"] as? String == "2026-03-14")
                    #expect(filed.json["title"] as? String == "Blood panel, March")
                    #expect(filed.headers[.location] == "/api/v1/patients/\(patient)/documents/\(id)")
                    let base = "/api/v1/patients/\(patient)/documents"

                    let listed = try await client.send(.get, base, token: doctor)
                    #expect((listed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
                    #expect(((try await client.send(.get, "\(base)?category=imaging", token: doctor)).json["items"] as? [Any])?.count == 0)
                    #expect(((try await client.send(.get, "\(base)?from=2026-03-15", token: doctor)).json["items"] as? [Any])?.count == 0)
                    #expect(((try await client.send(.get, "\(base)?to=2026-03-14", token: doctor)).json["items"] as? [Any])?.count == 1)
                    #expect((try await client.send(.get, "\(base)/\(id)", token: doctor)).json["media_type"] as? String == "application/pdf")

                    let whole = try await client.send(.get, "\(base)/\(id)/content", token: doctor)
                    #expect(whole.status == .ok)
                    #expect(Array(whole.body.readableBytesView) == bytes)
                    #expect(whole.headers[.contentType] == "application/pdf")
                    #expect(whole.headers[.eTag] == "\"\(Sample.sha256(bytes))\"")
                    #expect(whole.headers[.acceptRanges] == "bytes")
                    let unchanged = try await client.send(.get, "\(base)/\(id)/content", token: doctor, headers: [.ifNoneMatch: "\"\(Sample.sha256(bytes))\""])
                    #expect(unchanged.status == .notModified)
                    #expect(unchanged.body.readableBytes == 0)
                    for (header, range) in [("bytes=65530-65545", 65530..<65546), ("bytes=100000-", 100_000..<bytes.count), ("bytes=-10", (bytes.count - 10)..<bytes.count),
                                            ("bytes=0-0", 0..<1), ("bytes=131071-131072", 131_071..<131_073)] {
                        let part = try await client.send(.get, "\(base)/\(id)/content", token: doctor, headers: [.range: header])
                        #expect(part.status == .partialContent, "\(header)")
                        #expect(Array(part.body.readableBytesView) == Array(bytes[range]), "\(header)")
                        #expect(part.headers[.contentRange] == "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(bytes.count)")
                    }
                    let beyond = try await client.send(.get, "\(base)/\(id)/content", token: doctor, headers: [.range: "bytes=900000-"])
                    #expect(beyond.status == .rangeNotSatisfiable)

                    // Permissions and tenants.
                    let clerk = try await client.token("clerk@acme.test")
                    #expect(try await client.send(.get, base, token: clerk).status == .forbidden)
                    #expect(try await client.upload(Sample.pdf(100), type: "application/pdf", patient: patient, token: clerk).status == .forbidden)
                    let other = try await client.token("doctor@beta.test", tenant: "beta")
                    let theirs = try await client.patient(other, "Bo", "Beta")
                    #expect(try await client.send(.get, "/api/v1/patients/\(theirs)/documents/\(id)/content", token: other).status == .notFound)
                    #expect(try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(id)/content", token: other).status == .notFound)
                    #expect(try await client.send(.get, "/api/v1/patients/\(theirs)/documents/\(id)", token: other).status == .notFound)

                    // Archived: only with a reason; out of the list, still readable, never twice.
                    let unexplained = try await client.send(.post, "\(base)/\(id)/archive", token: doctor, json: ["reason": ""])
                    #expect(unexplained.status == .unprocessableContent)
                    #expect(((try await client.send(.get, base, token: doctor)).json["items"] as? [Any])?.count == 1)
                    let archived = try await client.send(.post, "\(base)/\(id)/archive", token: doctor, json: ["reason": "Filed under the wrong patient"])
                    #expect(archived.status == .ok)
                    #expect(archived.json["status"] as? String == "archived")
                    #expect(((try await client.send(.get, base, token: doctor)).json["items"] as? [Any])?.count == 0)
                    #expect(((try await client.send(.get, "\(base)?include_archived=true", token: doctor)).json["items"] as? [Any])?.count == 1)
                    #expect(try await client.send(.post, "\(base)/\(id)/archive", token: doctor, json: ["reason": "again"]).status == .conflict)
                    #expect(try await client.send(.get, "\(base)/\(id)/content", token: doctor).status == .ok)

                    // The trail has each access, attributed to the patient.
                    let auditor = try await client.token("auditor@acme.test")
                    let log = try #require(try await client.send(.get, "/api/v1/patients/\(patient)/access-log?limit=100", token: auditor).json["items"] as? [[String: Any]])
                    let actions = Set(log.filter { $0["resource_type"] as? String == "document" }.compactMap { $0["action"] as? String })
                    #expect(actions == ["create", "list", "read", "download", "archive"])
                    #expect(log.contains { ($0["details"] as? [String: String])?["range"] == "65530-65545" })
                }
                // One object, under the tenant's id, with no readable byte of the document.
                let stored = try await Self.stored(store, node: node, settings: settings, tenantID: tenantID)
                #expect(stored.keys.count == 1, "\(stored.keys)")
                #expect(try await !stored.plaintextFound(Array("PATIENT-SECRET-MARKER".utf8)))
                #expect(try await !stored.plaintextFound(Array("%PDF-1.7".utf8)))
            }
        }
    }

    @Test("uploads are checked by their first bytes and their size; a refused one leaves nothing behind")
    func refusals() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_DOCUMENTS_UPLOAD_LIMIT": "100000"]) { node in
                try await node.staff("nurse@acme.test", roles: ["nurse"])
                let tenantID = try await node.tenantID()
                try await node.test { client in
                    let nurse = try await client.token("nurse@acme.test")
                    let patient = try await client.patient(nurse)
                    // Each accepted type, recognised.
                    for (bytes, type) in [(Sample.png(3000), "image/png"), (Sample.jpeg(3000), "image/jpeg"), (Sample.tiff(3000), "image/tiff"),
                                          (Sample.dicom(3000), "application/dicom"), (Sample.text("Referral: please see Ms Okafor.\nनमस्ते\n"), "text/plain; charset=utf-8"),
                                          (Sample.pdf(99_000), "application/pdf")] {
                        let filed = try await client.upload(bytes, type: type, patient: patient, token: nurse, category: "referral")
                        #expect(filed.status == .created, "\(type): \(filed.text)")
                        let back = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(filed.json["id"] as? String ?? "")/content", token: nurse)
                        #expect(Array(back.body.readableBytesView) == bytes, "\(type)")
                    }
                    // A declared type the content is not, a type not accepted, binary sent as text.
                    for (bytes, type) in [(Sample.pdf(2000), "image/png"), (Sample.png(2000), "application/pdf"), (Sample.random(2000), "application/pdf"),
                                          (Array("PK\u{3}\u{4}zip".utf8), "application/zip"), ([0x41, 0x00, 0x42], "text/plain"), (Sample.pdf(2000), "")] {
                        let refused = try await client.upload(bytes, type: type, patient: patient, token: nurse)
                        #expect(refused.status == .unsupportedMediaType, "\(type)")
                        #expect(refused.headers[.contentType] == "application/problem+json")
                    }
                    let tooLarge = try await client.upload(Sample.pdf(150_000), type: "application/pdf", patient: patient, token: nurse)
                    #expect(tooLarge.status == .contentTooLarge)
                    #expect(try await client.upload(Sample.pdf(1000), type: "application/pdf", patient: patient, token: nurse, title: "").status == .badRequest)
                    let untitled = try await client.execute(uri: "/api/v1/patients/\(patient)/documents?category=consent", method: .post,
                                                            headers: [.authorization: "Bearer \(nurse)", .contentType: "application/pdf"], body: ByteBuffer(bytes: Sample.pdf(1000)))
                    #expect(untitled.status == .unprocessableContent)
                    #expect((untitled.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "title")
                    #expect(try await client.upload(Sample.pdf(1000), type: "application/pdf", patient: patient, token: nurse, category: "recipes").status == .badRequest)
                    #expect(try await client.upload(Sample.pdf(1000), type: "application/pdf", patient: "01a20000-0000-7000-8000-000000000000", token: nurse).status == .notFound)
                    // A form, as `curl -F` sends one: fields, then the file, its type left to the bytes.
                    let png = Sample.png(5000), boundary = "ward-form-boundary"
                    var form = ByteBuffer()
                    form.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nConsent form\r\n")
                    form.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nconsent\r\n")
                    form.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"consent.png\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    form.writeBytes(png)
                    form.writeString("\r\n--\(boundary)--\r\n")
                    let multipart: HTTPFields = [.authorization: "Bearer \(nurse)", .contentType: "multipart/form-data; boundary=\(boundary)"]
                    let formed = try await client.execute(uri: "/api/v1/patients/\(patient)/documents", method: .post, headers: multipart, body: form)
                    #expect(formed.status == .created, "\(formed.text)")
                    #expect(formed.json["media_type"] as? String == "image/png")
                    #expect(formed.json["title"] as? String == "Consent form")
                    #expect(formed.json["sha256"] as? String == Sample.sha256(png))
                    let garbled = try await client.execute(uri: "/api/v1/patients/\(patient)/documents?title=x&category=consent", method: .post, headers: multipart,
                                                           body: ByteBuffer(string: "no boundary here"))
                    #expect(garbled.status == .unprocessableContent)

                    let listed = try await client.send(.get, "/api/v1/patients/\(patient)/documents", token: nurse)
                    #expect((listed.json["items"] as? [Any])?.count == 7)
                }
                // Only the seven accepted documents are stored; no partial file is left.
                let root = URL(fileURLWithPath: node.services.settings.dataDirectory).appendingPathComponent("documents/tenants/\(tenantID)/documents")
                #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).count == 7)
            }
        }
    }

    @Test("a damaged object is refused on read, never served; the rest of it still reads by range", arguments: StoreKind.allCases)
    func damage(_ store: StoreKind) async throws {
        let settings = try await store.settings()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let tenantID = try await node.tenantID()
                let dataDirectory = node.services.settings.dataDirectory
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor)
                    let bytes = Sample.pdf(150_000)
                    let id = try #require(try await client.upload(bytes, type: "application/pdf", patient: patient, token: doctor).json["id"] as? String)
                    let key = "tenants/\(tenantID)/documents/\(id)"
                    // One bit flipped in the first chunk.
                    switch store {
                    case .file:
                        let file = URL(fileURLWithPath: dataDirectory).appendingPathComponent("documents/\(key)")
                        var data = try Data(contentsOf: file)
                        data[1000] ^= 0x01
                        try data.write(to: file)
                    case .s3:
                        let prefix = URLComponents(string: settings["WARD_STORAGE_URL"]!)!.path.dropFirst()
                        try await S3Server.shared().corrupt("\(prefix)/\(key)", at: 1000)
                    }
                    let refused = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(id)/content", token: doctor)
                    #expect(refused.status == .internalServerError)
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    #expect(refused.json["title"] as? String == "Stored document is damaged")
                    #expect(!refused.text.contains("%PDF"))
                    let tail = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(id)/content", token: doctor, headers: [.range: "bytes=70000-70099"])
                    #expect(tail.status == .partialContent)
                    #expect(Array(tail.body.readableBytesView) == Array(bytes[70_000..<70_100]))
                }
                #expect(node.logs.lines.contains { $0.contains("document failed its integrity check") })
            }
        }
    }

    @Test("a purged tenant leaves no object and no key behind", arguments: StoreKind.allCases)
    func purge(_ store: StoreKind) async throws {
        let settings = try await store.settings(["WARD_TENANT_PURGE_GRACE_DAYS": "0"])
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let tenant = try await node.services.storage.tenants.activeScope(slug: "acme").tenant
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor)
                    for _ in 0..<2 {
                        #expect(try await client.upload(Sample.pdf(80_000), type: "application/pdf", patient: patient, token: doctor).status == .created)
                    }
                }
                let documents = try #require(node.services.modules.compactMap { $0 as? DocumentsModule }.first).documents
                #expect(try await documents.store.list(prefix: PatientDocuments.prefix(of: tenant)).count == 2)
                #expect(try await documents.keys.exists(tenant.id))
                try await node.services.lifecycle.delete("acme", by: .system)
                try await node.services.lifecycle.purge(ProvisioningOrder(tenantID: tenant.id, slug: "acme", adminEmail: nil, adminName: nil), now: Date().addingTimeInterval(60))
                #expect(try await documents.store.list(prefix: PatientDocuments.prefix(of: tenant)).isEmpty)
                #expect(try await !documents.keys.exists(tenant.id))
                if store == .s3 {
                    let prefix = URLComponents(string: settings["WARD_STORAGE_URL"]!)!.path.dropFirst()
                    #expect(try await S3Server.shared().list(prefix: "\(prefix)/tenants/\(tenant.id)/").keys.isEmpty)
                }
                // Purging again (a retried job) finds nothing left to do and does not fail.
                try await node.services.lifecycle.purge(ProvisioningOrder(tenantID: tenant.id, slug: "acme", adminEmail: nil, adminName: nil), now: Date().addingTimeInterval(60))
            }
        }
    }

    @Test("after the secret key is rotated, tenant keys are rewrapped without touching objects, and documents still read")
    func masterKeyRotation() async throws {
        try await withTestSite(.sqlite) { site in
            let first = "first-secret-key-0123456789-abcdefghijklmnop", second = "second-secret-key-0123456789-abcdefghijklmno"
            let bytes = Sample.pdf(70_000)
            let location = Mutex("")
            var objects: [String: Data] = [:]
            func snapshot(_ node: TestNode) throws -> [String: Data] {
                let root = URL(fileURLWithPath: node.services.settings.dataDirectory).appendingPathComponent("documents")
                let files = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
                return try Dictionary(uniqueKeysWithValues: files.filter { $0.contains("/documents/") }.map { ($0, try Data(contentsOf: root.appendingPathComponent($0))) })
            }
            try await TestNode.with(site, settings: ["WARD_SECRET_KEY": first]) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor)
                    let id = try #require(try await client.upload(bytes, type: "application/pdf", patient: patient, token: doctor).json["id"] as? String)
                    location.withLock { $0 = "/api/v1/patients/\(patient)/documents/\(id)/content" }
                }
                objects = try snapshot(node)
            }
            try await TestNode.with(site, settings: ["WARD_SECRET_KEY": second, "WARD_SECRET_PREVIOUS_KEYS": first]) { node in
                let documents = try #require(node.services.modules.compactMap { $0 as? DocumentsModule }.first).documents
                #expect(try await documents.keys.rewrapAll() == 1)
                #expect(try snapshot(node) == objects)
            }
            try await TestNode.with(site, settings: ["WARD_SECRET_KEY": second]) { node in
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let back = try await client.send(.get, location.withLock { $0 }, token: doctor)
                    #expect(back.status == .ok)
                    #expect(Array(back.body.readableBytesView) == bytes)
                }
            }
        }
    }

    @Test("a document larger than a part goes to S3 as a multipart upload and reads back whole")
    func multipart() async throws {
        let settings = try await StoreKind.s3.settings()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor)
                    let bytes = Sample.dicom(12 * 1024 * 1024 + 333)
                    let filed = try await client.upload(bytes, type: "application/dicom", patient: patient, token: doctor, title: "CT chest", category: "imaging")
                    #expect(filed.status == .created)
                    let id = try #require(filed.json["id"] as? String)
                    let back = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(id)/content", token: doctor)
                    #expect(back.body.readableBytes == bytes.count)
                    #expect(Sample.sha256(Array(back.body.readableBytesView)) == Sample.sha256(bytes))
                }
                // moto records a multipart upload's ETag as "<md5 of the parts' md5s>-<parts>".
                #expect(node.logs.lines.allSatisfy { !$0.contains("document not stored") })
            }
        }
    }

    @Test("an upload refused after its first part reached S3 leaves no object and no unfinished multipart upload")
    func abortedMultipart() async throws {
        let limit = 6 * 1024 * 1024
        let settings = try await StoreKind.s3.settings(["WARD_DOCUMENTS_UPLOAD_LIMIT": String(limit)])
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: settings) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                let tenantID = try await node.tenantID()
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor)
                    // A form declares its whole length, which passes the check up front (the fields
                    // take room too); the file itself outgrows the limit after the first 5 MiB part.
                    let boundary = "ward-form-boundary"
                    var form = ByteBuffer()
                    form.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nCT\r\n")
                    form.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nimaging\r\n")
                    form.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ct.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
                    form.writeBytes(Sample.pdf(limit + 20_000))
                    form.writeString("\r\n--\(boundary)--\r\n")
                    let refused = try await client.execute(uri: "/api/v1/patients/\(patient)/documents", method: .post,
                                                           headers: [.authorization: "Bearer \(doctor)", .contentType: "multipart/form-data; boundary=\(boundary)"], body: form)
                    #expect(refused.status == .contentTooLarge)
                    #expect(((try await client.send(.get, "/api/v1/patients/\(patient)/documents", token: doctor)).json["items"] as? [Any])?.count == 0)
                }
                let prefix = String(URLComponents(string: settings["WARD_STORAGE_URL"]!)!.path.dropFirst()) + "/tenants/\(tenantID)/"
                #expect(try await S3Server.shared().list(prefix: prefix).keys.isEmpty)
                #expect(try await S3Server.shared().pendingUploads(prefix: prefix).isEmpty)
            }
        }
    }

    @Test("readiness names the document store when its credentials are refused")
    func readiness() async throws {
        let server = try await S3Server.shared()
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: server.settings(prefix: "ready", secret: "not-the-secret")) { node in
                try await node.test { client in
                    let response = try await client.execute(uri: "/health/ready", method: .get)
                    #expect(response.status == .serviceUnavailable)
                    #expect((response.json["checks"] as? [String: String])?["document_store"] == "unavailable")
                }
            }
            try await TestNode.with(site, settings: server.settings(prefix: "ready")) { node in
                try await node.test { client in
                    let response = try await client.execute(uri: "/health/ready", method: .get)
                    #expect(response.status == .ok)
                }
            }
        }
    }
}

/// What Ward writes itself goes into the record too.
@Suite("Generated documents")
struct GeneratedDocumentsTests {
    @Test("a prescription's PDF is filed into its patient's documents, readable by qpdf; filing needs both permissions")
    func filePrescription() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.staff("doctor@acme.test", roles: ["doctor"])
                try await node.staff("desk@acme.test", roles: ["receptionist"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                _ = try await PrescribingService(audit: node.services.audit).loadStarterFormulary(in: scope, by: .system)
                try await node.test { client in
                    let doctor = try await client.token("doctor@acme.test")
                    let patient = try await client.patient(doctor, "Zoë", "Müller")
                    let medication = try #require((try await client.send(.get, "/api/v1/medications?q=PARA500", token: doctor).json["items"] as? [[String: Any]])?.first?["id"] as? String)
                    let issued = try await client.send(.post, "/api/v1/prescriptions", token: doctor, json: [
                        "patient_id": patient, "items": [["medication_id": medication, "dose": "1 g", "route": "oral", "frequency": "every 6 hours",
                                                          "duration_days": 3, "quantity": 12]],
                    ])
                    let prescription = try #require(issued.json["id"] as? String)
                    // The front desk files documents but does not read prescriptions.
                    #expect(try await client.send(.post, "/api/v1/prescriptions/\(prescription)/file", token: try await client.token("desk@acme.test")).status == .forbidden)
                    let filed = try await client.send(.post, "/api/v1/prescriptions/\(prescription)/file", token: doctor)
                    #expect(filed.status == .created)
                    #expect(filed.json["category"] as? String == "generated")
                    #expect(filed.json["patient_id"] as? String == patient)
                    #expect(filed.json["source"] as? String == "prescription:\(prescription)")
                    let id = try #require(filed.json["id"] as? String)
                    let pdf = try await client.send(.get, "/api/v1/patients/\(patient)/documents/\(id)/content", token: doctor)
                    let data = Data(buffer: pdf.body)
                    #expect(try await ExternalTool.pdfIsSound(data))
                    #expect(try await ExternalTool.pdfText(data).contains("Zoë Müller"))
                    #expect(try await client.send(.post, "/api/v1/prescriptions/01a20000-0000-7000-8000-000000000000/file", token: doctor).status == .notFound)
                }
            }
        }
    }
}
