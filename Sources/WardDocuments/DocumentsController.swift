import Foundation
import HTTPTypes
package import Hummingbird
import OpenAPIKit
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/patients/{id}/documents`: a patient's files, uploaded as a raw body with its
/// Content-Type, listed with filters, described, downloaded (whole or by range, with an ETag)
/// and archived.
package struct DocumentsController: Sendable {
    let documents: PatientDocuments
    let prescriptions: GeneratedDocuments

    static let mediaTypes = DocumentMediaType.allCases.map(\.rawValue)

    package static let operations: [APIOperation] = [
        APIOperation("uploadDocument", .post, "/api/v1/patients/{id}/documents",
                     summary: "File a document into the patient's record: the body is the file, its Content-Type one of the accepted types, checked against its first bytes; or a multipart/form-data form whose fields (title, category, document_date) precede its file part",
                     tag: "documents", access: .staff, permission: "documents:write", success: (201, "application/json", PatientDocument.self),
                     problems: [401, 403, 404, 413, 415, 422])
            .uploading(mediaTypes + ["multipart/form-data"])
            .limited(as: "upload")
            .query(QueryParameter("title", .text(maxLength: 200), "What the document is (here or as a form field; required)"),
                   QueryParameter("category", .choice(DocumentCategory.allCases.map(\.rawValue)), "The kind of record (here or as a form field; required)"),
                   QueryParameter("document_date", .date, "The date the document bears, yyyy-MM-dd; today when absent")),
        APIOperation("listDocuments", .get, "/api/v1/patients/{id}/documents", summary: "The patient's documents, newest first (archived ones on request)",
                     tag: "documents", access: .staff, permission: "documents:read", success: (200, "application/json", ItemList<PatientDocument>.self),
                     problems: [401, 403, 404], breakGlassParameter: "id")
            .query(QueryParameter("category", .choice(DocumentCategory.allCases.map(\.rawValue)), "Only this kind"),
                   QueryParameter("from", .date, "Documents dated on or after this day"),
                   QueryParameter("to", .date, "Documents dated on or before this day"),
                   QueryParameter("author_id", .uuid, "Filed by this user"),
                   QueryParameter("include_archived", .boolean, "Archived documents too")),
        APIOperation("readDocument", .get, "/api/v1/patients/{id}/documents/{document_id}", summary: "A document's description: title, category, size, SHA-256, author",
                     tag: "documents", access: .staff, permission: "documents:read", success: (200, "application/json", PatientDocument.self),
                     problems: [401, 403, 404], breakGlassParameter: "id"),
        APIOperation("downloadDocument", .get, "/api/v1/patients/{id}/documents/{document_id}/content",
                     summary: "The document's bytes, streamed; Range asks for part of them, If-None-Match with the ETag (the SHA-256) for none if unchanged",
                     tag: "documents", access: .staff, permission: "documents:read", success: (200, DocumentMediaType.pdf.rawValue, nil),
                     problems: [401, 403, 404], breakGlassParameter: "id")
            .alsoAnswering(mediaTypes.filter { $0 != DocumentMediaType.pdf.rawValue })
            .rangeable(),
        APIOperation("archiveDocument", .post, "/api/v1/patients/{id}/documents/{document_id}/archive",
                     summary: "Archive a document: it leaves the list and stays readable; documents are never deleted",
                     tag: "documents", access: .staff, permission: "documents:write", success: (200, "application/json", PatientDocument.self),
                     problems: [401, 403, 404, 409], request: ArchiveRequest.self),
        APIOperation("filePrescription", .post, "/api/v1/prescriptions/{id}/file",
                     summary: "File the prescription's PDF into its patient's documents (category generated); needs documents:write as well",
                     tag: "documents", access: .staff, permission: "prescriptions:read", success: (201, "application/json", PatientDocument.self),
                     problems: [401, 403, 404]),
    ]

    struct ArchiveRequest: APIRequestBody {
        let reason: String
        static var schemaName: String { "DocumentArchive" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["reason": PatientDocuments.archiveReason.schema] }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let documents = self.documents, prescriptions = self.prescriptions
        routes.on("uploadDocument") { request, context -> Response in
            let scope = try context.requireTenant()
            if let length = request.headers.value(.contentLength).flatMap(Int.init), length > documents.uploadLimit + 64 * 1024 {
                throw DocumentError.tooLarge(limit: documents.uploadLimit)
            }
            var fields: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value) }
            let body: ByteStream, type: DocumentMediaType?
            let declared = request.headers.value(.contentType) ?? ""
            if let boundary = MultipartForm.boundary(declared) {
                // A form (`curl -F`): its fields before the file stand beside the query's.
                let form = MultipartForm(ByteStream(request.body), boundary: boundary)
                let file: MultipartForm.File?
                do {
                    file = try await form.file()
                } catch is MultipartForm.Malformed {
                    throw DocumentError.invalid([.init(field: "file", message: "the body is not multipart/form-data as its boundary says")])
                }
                guard let file else { throw DocumentError.invalid([.init(field: "file", message: "the form has no file part")]) }
                fields.merge(form.fields) { query, _ in query }
                body = file.bytes
                // A client names a part's type as it pleases (often application/octet-stream): the bytes decide then.
                type = file.contentType.flatMap(DocumentMediaType.init(header:))
            } else {
                guard let raw = DocumentMediaType(header: declared) else { throw DocumentError.unsupportedType(declared) }
                if let length = request.headers.value(.contentLength).flatMap(Int.init), length > documents.uploadLimit {
                    throw DocumentError.tooLarge(limit: documents.uploadLimit)
                }
                body = ByteStream(request.body)
                type = raw
            }
            var errors: [Problem.FieldError] = []
            let title = fields["title"] ?? ""
            if title.isEmpty { errors.append(.init(field: "title", message: "is required")) }
            let category = fields["category"].flatMap(DocumentCategory.init(rawValue:))
            if category == nil { errors.append(.init(field: "category", message: "is required: one of \(DocumentCategory.allCases.map(\.rawValue).joined(separator: ", "))")) }
            let date = fields["document_date"].flatMap { $0.isEmpty ? nil : $0 }
            guard errors.isEmpty, let category else { throw DocumentError.invalid(errors) }
            let document = try await documents.file(body, .init(title: title, category: category, documentDate: date, declaredType: type),
                                                    patientID: try context.parameters.require("id"), in: scope, by: AuditActor(request, context))
            var response = try JSONResponse.make(document, status: .created, etag: document.etag)
            response.headers[.location] = "/api/v1/patients/\(document.patientID)/documents/\(document.id)"
            return response
        }
        routes.on("listDocuments") { request, context -> Response in
            let query = request.uri.queryParameters
            var filter = PatientDocuments.Filter()
            filter.category = query.get("category").flatMap(DocumentCategory.init(rawValue:))
            filter.from = query.get("from")
            filter.to = query.get("to")
            filter.authorID = query.get("author_id")
            filter.includeArchived = query.get("include_archived") == "true"
            let found = try await documents.list(patientID: try context.parameters.require("id"), filter: filter, in: try context.requireTenant(),
                                                 by: AuditActor(request, context))
            return try JSONResponse.make(ItemList(found))
        }
        routes.on("readDocument") { request, context -> Response in
            let document = try await documents.describe(try context.parameters.require("document_id"), patientID: try context.parameters.require("id"),
                                                        in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(document, etag: document.etag)
        }
        routes.on("downloadDocument") { request, context -> Response in
            let scope = try context.requireTenant()
            let document = try await documents.fetch(try context.parameters.require("document_id"), patientID: try context.parameters.require("id"), in: scope)
            var headers: HTTPFields = [
                .contentType: document.mediaType, .eTag: document.etag, .acceptRanges: "bytes",
                .contentDisposition: "attachment; filename=\"\(document.id).\(DocumentMediaType(rawValue: document.mediaType)?.fileExtension ?? "bin")\"",
                .cacheControl: "private, no-store",
            ]
            if let match = request.headers.value(.ifNoneMatch), match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == document.etag || $0 == "*" }) {
                return Response(status: .notModified, headers: headers)
            }
            let range = try ByteRange.parse(request.headers.value(.range), size: document.size)
            let body = try await documents.open(document, range: range, in: scope, by: AuditActor(request, context))
            if let range {
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(document.size)"
                headers[.contentLength] = String(range.count)
                return Response(status: .partialContent, headers: headers, body: ResponseBody(asyncSequence: body))
            }
            headers[.contentLength] = String(document.size)
            return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: body))
        }
        routes.on("filePrescription") { request, context -> Response in
            let principal = try context.requirePrincipal()
            guard principal.permissions.contains("documents:write") else {
                try await context.recordDenial?("documents:write", context.endpointPath ?? request.uri.path)
                throw PermissionDenied(permission: "documents:write", secondFactorMissing: principal.secondFactorMissing)
            }
            let document = try await prescriptions.file(try context.parameters.require("id"), in: try context.requireTenant(), by: AuditActor(request, context))
            var response = try JSONResponse.make(document, status: .created, etag: document.etag)
            response.headers[.location] = "/api/v1/patients/\(document.patientID)/documents/\(document.id)"
            return response
        }
        routes.on("archiveDocument") { request, context -> Response in
            let body = try await request.decode(as: ArchiveRequest.self, context: context)
            let document = try await documents.archive(try context.parameters.require("document_id"), patientID: try context.parameters.require("id"),
                                                       reason: body.reason, in: try context.requireTenant(), by: AuditActor(request, context))
            return try JSONResponse.make(document)
        }
    }
}

/// One byte range of a `Range` header (RFC 9110): `bytes=a-b`, `bytes=a-` or `bytes=-n`. A
/// header naming several ranges, or another unit, is ignored (the whole document is sent, as
/// the RFC allows); one beyond the end is 416.
enum ByteRange {
    static func parse(_ header: String?, size: Int) throws -> Range<Int>? {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let first = parts[0].isEmpty ? nil : Int(parts[0]), last = parts[1].isEmpty ? nil : Int(parts[1])
        if !parts[0].isEmpty && first == nil || !parts[1].isEmpty && last == nil { return nil }
        switch (first, last) {
        case (let start?, let end):
            guard start < size, start >= 0 else { throw DocumentError.rangeNotSatisfiable(size: size) }
            let upper = min(size - 1, end ?? size - 1)
            guard upper >= start else { return nil }
            return start..<(upper + 1)
        case (nil, let suffix?):
            guard suffix > 0, size > 0 else { throw DocumentError.rangeNotSatisfiable(size: size) }
            return max(0, size - suffix)..<size
        case (nil, nil):
            return nil
        }
    }
}
