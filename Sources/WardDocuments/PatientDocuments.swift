import Crypto
package import Foundation
package import Logging
package import NIOCore
import NIOFoundationCompat
import SQLKit
package import WardAudit
package import WardCore
package import OpenAPIKit
package import WardHTTP
package import WardStorage

/// One document in a patient's record: what it is, who filed it, and the digest of its bytes.
package struct PatientDocument: Codable, Sendable, APIResponseBody {
    package let id: String
    package let patientID: String
    package let title: String
    package let category: String
    package let mediaType: String
    package let size: Int
    package let sha256: String
    package let authorID: String?
    package let authorName: String?
    package let documentDate: String
    package let status: String
    package let source: String?
    package let createdAt: String
    package let archivedAt: String?
    package let archivedReason: String?
    /// Where the object lies and how it was sealed: the server's to know.
    var objectKey: String = ""
    var nonce: String = ""
    var keyGeneration: Int = 1

    enum CodingKeys: String, CodingKey {
        case id, title, category, size, sha256, status, source
        case patientID = "patient_id", mediaType = "media_type", authorID = "author_id", authorName = "author_name", documentDate = "document_date"
        case createdAt = "created_at", archivedAt = "archived_at", archivedReason = "archived_reason"
    }

    package static var schemaName: String { "Document" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["category": .enumeration(DocumentCategory.allCases.map(\.rawValue)), "media_type": .enumeration(DocumentMediaType.allCases.map(\.rawValue)),
         "status": .enumeration(["active", "archived"]), "document_date": .date, "created_at": .dateTime, "archived_at": .dateTime]
    }

    /// The strong validator of the bytes, for `ETag` and `If-None-Match`.
    package var etag: String { "\"\(sha256)\"" }
}

/// What kind of record a document is.
package enum DocumentCategory: String, CaseIterable, Sendable {
    case labResult = "lab_result", imaging, consent, referral, identity, correspondence, generated
}

/// Patients' documents: uploads checked by their first bytes and their size, sealed chunk by
/// chunk under the tenant's data key as they stream into the store, listed and read back
/// (whole or by range) with every access audited, archived but never deleted.
package struct PatientDocuments: Sendable {
    package let store: any ObjectStore
    package let keys: TenantKeys
    let audit: AuditTrail
    let metrics: DocumentMetrics
    /// The most bytes one document may hold.
    package let uploadLimit: Int
    let logger: Logger

    package init(store: any ObjectStore, keys: TenantKeys, audit: AuditTrail, metrics: DocumentMetrics, uploadLimit: Int, logger: Logger) {
        self.store = store
        self.keys = keys
        self.audit = audit
        self.metrics = metrics
        self.uploadLimit = uploadLimit
        self.logger = logger
    }

    /// Objects of a tenant lie under its id, never its slug (slugs are reserved, not secret).
    package static func prefix(of tenant: Tenant) -> String { "tenants/\(tenant.id)/" }
    static func objectKey(_ id: String, in tenant: Tenant) -> String { prefix(of: tenant) + "documents/\(id)" }

    // MARK: Filing

    /// What an upload says of itself besides its bytes.
    package struct Filing: Sendable {
        package var title: String
        package var category: DocumentCategory
        package var documentDate: String?
        /// The type the client declared; nil takes the type the first bytes show (a browser
        /// names a DICOM file's type as it pleases).
        package var declaredType: DocumentMediaType?
        package var source: String?

        package init(title: String, category: DocumentCategory, documentDate: String?, declaredType: DocumentMediaType?, source: String? = nil) {
            self.title = title
            self.category = category
            self.documentDate = documentDate
            self.declaredType = declaredType
            self.source = source
        }
    }

    /// Files `body` into the patient's record. The bytes are checked as they arrive (their
    /// type by the first ones, their size all along) and the object is stored before the row
    /// that names it is committed: a failure at any point leaves no document behind.
    package func file(_ body: ByteStream, _ filing: Filing, patientID: String, in scope: TenantScope, by actor: AuditActor) async throws -> PatientDocument {
        let title = filing.title.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [Problem.FieldError] = []
        if title.isEmpty || title.count > 200 || title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors.append(.init(field: "title", message: "a title of 1 to 200 characters on one line is required"))
        }
        let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
        let documentDate = filing.documentDate ?? Timestamp.format(Date(), "yyyy-MM-dd", in: zone)
        if Timestamp.date(documentDate + "T00:00:00Z") == nil { errors.append(.init(field: "document_date", message: "a date as yyyy-MM-dd")) }
        guard errors.isEmpty else { throw DocumentError.invalid(errors) }
        try await requirePatient(patientID, in: scope)

        let id = UUIDv7.id()
        let key = Self.objectKey(id, in: scope.tenant)
        let header = ChunkedCipher.Header.fresh(keyGeneration: TenantKeys.generation)
        let inspection = Inspection(body, declared: filing.declaredType, limit: uploadLimit)
        let sealing = SealingStream(inspection.stream, header: header, objectKey: key, key: try await keys.key(for: scope.tenant.id))
        do {
            _ = try await metrics.counting("put") { try await store.put(key, body: sealing.stream) }
        } catch let error as DocumentError {
            throw error
        } catch let error as ObjectStoreError {
            logger.error("document not stored", metadata: ["tenant_id": "\(scope.tenant.slug)", "error": "\(error)"])
            throw DocumentError.storeUnavailable
        }
        metrics.bytes("in", inspection.size)
        let document = PatientDocument(
            id: id, patientID: patientID, title: title, category: filing.category.rawValue, mediaType: inspection.recognised?.rawValue ?? "", size: inspection.size,
            sha256: inspection.digest, authorID: actor.id, authorName: actor.name, documentDate: documentDate, status: "active", source: filing.source,
            createdAt: Timestamp.now(), archivedAt: nil, archivedReason: nil, objectKey: key, nonce: header.nonceHex, keyGeneration: Int(header.keyGeneration)
        )
        let documents = try scope.table("documents")
        do {
            try await scope.transaction { database in
                try await database.insert(into: documents).columns(
                    "id", "patient_id", "title", "category", "media_type", "size", "sha256", "author_id", "author_name", "document_date", "status", "source",
                    "object_key", "nonce", "key_generation", "created_at"
                ).values(
                    SQLBind(id), SQLBind(patientID), SQLBind(title), SQLBind(document.category), SQLBind(document.mediaType), SQLBind(document.size),
                    SQLBind(document.sha256), SQLBind(actor.id), SQLBind(actor.name), SQLBind(documentDate), SQLBind("active"), SQLBind(filing.source),
                    SQLBind(key), SQLBind(document.nonce), SQLBind(document.keyGeneration), SQLBind(document.createdAt)
                ).run()
                _ = try await audit.append(actor.record("create", resourceType: "document", resourceID: id, patientID: patientID,
                                                        details: ["category": document.category, "media_type": document.mediaType, "size": String(document.size)]),
                                           in: database, scope: scope)
            }
        } catch {
            // The row did not commit: the object it would have named goes too.
            try? await store.delete(key)
            throw error
        }
        return document
    }

    private func requirePatient(_ patientID: String, in scope: TenantScope) async throws {
        let patients = try scope.table("patients")
        let exists = try await scope.read { database in
            try await database.select().column("id").from(patients).where("id", .equal, patientID).first() != nil
        }
        guard exists else { throw DocumentError.notFound("patient") }
    }

    // MARK: Reading

    /// Filters of a patient's document list.
    package struct Filter: Sendable {
        package var category: DocumentCategory?
        package var from: String?
        package var to: String?
        package var authorID: String?
        package var includeArchived = false
        package init() {}
    }

    /// The patient's documents, newest first, audited as a read of the record.
    package func list(patientID: String, filter: Filter, in scope: TenantScope, by actor: AuditActor) async throws -> [PatientDocument] {
        try await requirePatient(patientID, in: scope)
        let documents = try scope.table("documents")
        let rows = try await scope.read { database in
            let query = database.select().columns(Self.columns).from(documents).where("patient_id", .equal, patientID)
            if let category = filter.category { query.where("category", .equal, category.rawValue) }
            if let from = filter.from { query.where("document_date", .greaterThanOrEqual, from) }
            if let to = filter.to { query.where("document_date", .lessThanOrEqual, to) }
            if let author = filter.authorID { query.where("author_id", .equal, author) }
            if !filter.includeArchived { query.where("status", .equal, "active") }
            return try await query.orderBy("document_date", .descending).orderBy("created_at", .descending).limit(500).all()
        }
        let found = try rows.map(Self.document(from:))
        try await audit.recordRead(actor.record("list", resourceType: "document", patientID: patientID, details: ["count": String(found.count)]), in: scope)
        return found
    }

    /// One document's description, audited.
    package func describe(_ id: String, patientID: String, in scope: TenantScope, by actor: AuditActor) async throws -> PatientDocument {
        let document = try await fetch(id, patientID: patientID, in: scope)
        try await audit.recordRead(actor.record("read", resourceType: "document", resourceID: id, patientID: patientID), in: scope)
        return document
    }

    /// A document of the patient, unaudited: the caller audits what it does with it.
    package func fetch(_ id: String, patientID: String, in scope: TenantScope) async throws -> PatientDocument {
        let documents = try scope.table("documents")
        guard let row = try await scope.read({ database in
            try await database.select().columns(Self.columns).from(documents).where("id", .equal, id).where("patient_id", .equal, patientID).first()
        }) else { throw DocumentError.notFound("document") }
        return try Self.document(from: row)
    }

    /// The bytes of a document, or of `range` of them, decrypted as they are pulled. The first
    /// chunk is opened before this returns, so a damaged object is refused before anything is
    /// sent; damage further in ends the transfer early. Audited as a download.
    package func open(_ document: PatientDocument, range: Range<Int>?, in scope: TenantScope, by actor: AuditActor) async throws -> ByteStream {
        let wanted = range ?? 0..<document.size
        var details = ["bytes": String(wanted.count)]
        if range != nil { details["range"] = "\(wanted.lowerBound)-\(wanted.upperBound - 1)" }
        try await audit.recordRead(actor.record("download", resourceType: "document", resourceID: document.id, patientID: document.patientID,
                                                details: details), in: scope)
        guard document.size > 0, !wanted.isEmpty else { return ByteStream { nil } }
        guard let header = ChunkedCipher.Header(nonceHex: document.nonce, keyGeneration: UInt32(document.keyGeneration)) else { throw DocumentError.damaged }
        let span = ChunkedCipher.span(of: wanted, plaintextSize: document.size)
        let ciphertext: ByteStream
        do {
            ciphertext = try await metrics.counting("get") { try await store.get(document.objectKey, range: span.objectRange) }
        } catch ObjectStoreError.notFound {
            logger.error("document object missing", metadata: ["tenant_id": "\(scope.tenant.slug)", "document_id": "\(document.id)"])
            throw DocumentError.damaged
        } catch {
            logger.error("document not read", metadata: ["tenant_id": "\(scope.tenant.slug)", "error": "\(error)"])
            throw DocumentError.storeUnavailable
        }
        let opening = OpeningStream(ciphertext, header: header, objectKey: document.objectKey, key: try await keys.key(for: scope.tenant.id),
                                    plaintextSize: document.size, range: wanted)
        let first: ByteBuffer?
        do {
            first = try await opening.next()
        } catch let damage as DocumentDamaged {
            logger.error("document failed its integrity check", metadata: ["tenant_id": "\(scope.tenant.slug)", "document_id": "\(document.id)", "reason": "\(damage.reason)"])
            throw DocumentError.damaged
        }
        let metrics = self.metrics, logger = self.logger, slug = scope.tenant.slug, documentID = document.id
        let plaintext = opening.stream.prepending(first)
        return ByteStream {
            do {
                let buffer = try await plaintext.pull()
                if let buffer { metrics.bytes("out", buffer.readableBytes) }
                return buffer
            } catch {
                logger.error("document transfer ended early", metadata: ["tenant_id": "\(slug)", "document_id": "\(documentID)", "error": "\(error)"])
                throw error
            }
        }
    }

    // MARK: Archiving and purging

    /// Why a document was archived: required, kept with it and in the audit record.
    package static let archiveReason = TextField.freeText(min: 1, max: 500)

    /// Archives a document: it leaves the default list, stays readable and is never deleted.
    package func archive(_ id: String, patientID: String, reason: String, in scope: TenantScope, by actor: AuditActor) async throws -> PatientDocument {
        var errors: [Problem.FieldError] = []
        Self.archiveReason.check(reason, "reason", into: &errors)
        guard errors.isEmpty else { throw DocumentError.invalid(errors) }
        let current = try await fetch(id, patientID: patientID, in: scope)
        guard current.status == "active" else { throw DocumentError.archived }
        let documents = try scope.table("documents")
        let now = Timestamp.now()
        try await scope.transaction { database in
            try await database.update(documents).set("status", to: "archived").set("archived_at", to: now).set("archived_reason", to: reason)
                .set("archived_by", to: actor.id).where("id", .equal, id).where("status", .equal, "active").run()
            _ = try await audit.append(actor.record("archive", resourceType: "document", resourceID: id, patientID: patientID, reason: reason),
                                       in: database, scope: scope)
        }
        return try await fetch(id, patientID: patientID, in: scope)
    }

    /// A purged tenant's objects are deleted and its data key destroyed, so any copy of them
    /// left in a backup or a replica can no longer be read.
    package func purge(_ tenant: Tenant) async throws {
        try await keys.destroy(tenant.id)
        let removed = try await store.deleteAll(prefix: Self.prefix(of: tenant))
        logger.notice("tenant documents purged", metadata: ["tenant_id": "\(tenant.slug)", "objects": "\(removed)"])
    }

    // MARK: Rows

    static let columns = [
        "id", "patient_id", "title", "category", "media_type", "size", "sha256", "author_id", "author_name", "document_date", "status", "source",
        "created_at", "archived_at", "archived_reason", "object_key", "nonce", "key_generation",
    ]

    static func document(from row: any SQLRow) throws -> PatientDocument {
        PatientDocument(
            id: try row.decode(column: "id", as: String.self), patientID: try row.decode(column: "patient_id", as: String.self),
            title: try row.decode(column: "title", as: String.self), category: try row.decode(column: "category", as: String.self),
            mediaType: try row.decode(column: "media_type", as: String.self), size: try row.decode(column: "size", as: Int.self),
            sha256: try row.decode(column: "sha256", as: String.self), authorID: try row.decode(column: "author_id", as: String?.self),
            authorName: try row.decode(column: "author_name", as: String?.self), documentDate: try row.decode(column: "document_date", as: String.self),
            status: try row.decode(column: "status", as: String.self), source: try row.decode(column: "source", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: String.self), archivedAt: try row.decode(column: "archived_at", as: String?.self),
            archivedReason: try row.decode(column: "archived_reason", as: String?.self), objectKey: try row.decode(column: "object_key", as: String.self),
            nonce: try row.decode(column: "nonce", as: String.self), keyGeneration: try row.decode(column: "key_generation", as: Int.self)
        )
    }
}

/// Watches an upload's plaintext as it streams: refuses it past the size limit or when its
/// first bytes are not of the declared type, and digests it.
// Unchecked: one task pulls it; its results are read after the stream ended.
final class Inspection: @unchecked Sendable {
    private var iterator: ByteStream.AsyncIterator
    private let declared: DocumentMediaType?
    private let limit: Int
    private var hasher = SHA256()
    private var head = ByteBuffer()
    private var checked = false
    private(set) var size = 0
    private(set) var digest = ""
    /// The type the first bytes show.
    private(set) var recognised: DocumentMediaType?

    init(_ source: ByteStream, declared: DocumentMediaType?, limit: Int) {
        iterator = source.makeAsyncIterator()
        self.declared = declared
        self.limit = limit
    }

    var stream: ByteStream { ByteStream { try await self.next() } }

    func next() async throws -> ByteBuffer? {
        if !checked {
            // Gather the head before anything goes further.
            while head.readableBytes < DocumentMediaType.sniffLength, var buffer = try await pull() { head.writeBuffer(&buffer) }
            checked = true
            let sniffed = DocumentMediaType.recognise(Array(head.readableBytesView.prefix(DocumentMediaType.sniffLength)))
            if let declared {
                guard sniffed == declared else { throw DocumentError.contentMismatch(declared: declared.rawValue, actual: sniffed?.rawValue) }
            } else if sniffed == nil {
                throw DocumentError.contentMismatch(declared: "a file", actual: nil)
            }
            recognised = sniffed
            if head.readableBytes == 0 { return finish() }
            defer { head = ByteBuffer() }
            return head
        }
        guard let buffer = try await pull() else { return finish() }
        return buffer
    }

    private func pull() async throws -> ByteBuffer? {
        guard let buffer = try await iterator.next() else { return nil }
        size += buffer.readableBytes
        guard size <= limit else { throw DocumentError.tooLarge(limit: limit) }
        hasher.update(data: buffer.readableBytesView)
        return buffer
    }

    private func finish() -> ByteBuffer? {
        if digest.isEmpty { digest = hasher.finalize().map { String(format: "%02x", $0) }.joined() }
        return nil
    }
}
