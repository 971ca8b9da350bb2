import Foundation
import HTTPTypes
package import Hummingbird
import NIOCore
import WardCore
package import WardHTTP
import OpenAPIKit
import WardStorage

/// `/api/v1/audit-events` (`audit:read`): the trail, filtered and paged, and its streaming
/// export as NDJSON or CSV.
package struct AuditController: Sendable {
    let trail: AuditTrail
    let breakGlass: BreakGlass

    package init(trail: AuditTrail, breakGlass: BreakGlass) {
        self.trail = trail
        self.breakGlass = breakGlass
    }

    package static let operations: [APIOperation] = [
        APIOperation("listAuditEvents", .get, "/api/v1/audit-events", summary: "Audit events, newest first, filtered by actor, patient, resource, action, outcome and time",
                     tag: "audit", access: .staff, permission: "audit:read", success: (200, "application/json", ItemPage<AuditEvent>.self), problems: [400, 401, 403])
            .query(filters + [.limit(default: 100, maximum: 500), .cursor(.integer(1...Int64.max))]),
        APIOperation("exportAuditEvents", .get, "/api/v1/audit-events/export", summary: "Stream the filtered trail as NDJSON (default) or CSV (format=csv)",
                     tag: "audit", access: .staff, permission: "audit:read", success: (200, "application/x-ndjson", nil), problems: [400, 401, 403])
            .query(filters + [QueryParameter("format", .choice(["ndjson", "csv"]), "ndjson (default) or csv")]).alsoAnswering("text/csv")
            .limited(as: "export"),
        APIOperation("breakGlass", .post, "/api/v1/auth/break-glass", summary: "Emergency access: open one patient's record for a limited time, with a reason",
                     tag: "audit", access: .staff, permission: "patients:break_glass", success: (201, "application/json", BreakGlass.Grant.self),
                     problems: [400, 401, 403, 415, 422], request: BreakGlassRequest.self),
        APIOperation("listBreakGlassAccesses", .get, "/api/v1/audit-events/break-glass", summary: "Break-glass grants awaiting review (reviewed=true for those reviewed)",
                     tag: "audit", access: .staff, permission: "audit:read", success: (200, "application/json", ItemList<BreakGlass.Grant>.self), problems: [400, 401, 403])
            .query(QueryParameter("reviewed", .boolean, "true for the grants already reviewed")),
        APIOperation("reviewBreakGlassAccess", .post, "/api/v1/audit-events/break-glass/{id}/review", summary: "Mark a break-glass grant reviewed", tag: "audit",
                     access: .staff, permission: "audit:read", success: (200, "application/json", BreakGlass.Grant.self), problems: [400, 401, 403, 404, 422], request: ReviewRequest.self).optionalBody(),
    ]

    /// The filters of the list and the export.
    static let filters: [QueryParameter] = [
        QueryParameter("actor_id", .uuid, "Only this user's or administrator's events"),
        QueryParameter("patient_id", .uuid, "Only events about this patient"),
        QueryParameter("resource_type", .text(maxLength: 64), "Only events on this kind of resource"),
        QueryParameter("resource_id", .text(maxLength: 128), "Only events on this resource"),
        QueryParameter("action", .text(maxLength: 64), "Only this action"),
        QueryParameter("outcome", .choice(["success", "denied", "error"]), "Only this outcome"),
        QueryParameter("from", .dateTime, "Only events at or after this time"),
        QueryParameter("to", .dateTime, "Only events before this time"),
    ]


    static func filter(_ request: Request) throws -> AuditStore.Filter {
        let query = request.uri.queryParameters
        var filter = AuditStore.Filter()
        filter.actorID = query.get("actor_id")
        filter.patientID = query.get("patient_id")
        filter.resourceType = query.get("resource_type")
        filter.resourceID = query.get("resource_id")
        filter.action = query.get("action")
        filter.outcome = query.get("outcome")
        for (name, value) in [("from", query.get("from")), ("to", query.get("to"))] {
            guard let value else { continue }
            guard let date = TextRules.rfc3339(value) else {
                throw InvalidQuery(field: name, message: "must be an RFC 3339 time")
            }
            if name == "from" { filter.from = Timestamp.text(date) } else { filter.to = Timestamp.text(date) }
        }
        return filter
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let trail = self.trail
        routes.on("listAuditEvents") { request, context -> Response in
            let scope = try context.requireTenant()
            let limit = try request.pageLimit(default: 100, maximum: 500)
            let events = try await trail.events(in: scope, filter: try Self.filter(request), before: try request.sequenceCursor(), limit: limit)
            let next = events.count == limit ? events.last.map { String($0.seq) } : nil
            return try JSONResponse.make(ItemPage(events, nextCursor: next))
        }
        routes.on("exportAuditEvents") { request, context -> Response in
            let scope = try context.requireTenant()
            let filter = try Self.filter(request)
            let csv = request.uri.queryParameters.get("format") == "csv"
            return try await AuditExport.response(filter: filter, csv: csv, in: scope, trail: trail, by: AuditActor(request, context))
        }
    }

    struct BreakGlassRequest: APIRequestBody {
        let patientID: String
        let reason: String
        enum CodingKeys: String, CodingKey { case reason, patientID = "patient_id" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            let reason = BreakGlass.reason
            return ["patient_id": .id, "reason": .string(minLength: reason.minLength, maxLength: reason.maxLength, pattern: BreakGlass.reasonPattern)]
        }
    }
    struct ReviewRequest: APIRequestBody {
        let note: String?
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["note": BreakGlass.reviewNote.schema] }
    }

    package func breakGlassRoutes(_ routes: inout ModuleRoutes) {
        let breakGlass = self.breakGlass
        routes.on("breakGlass") { request, context -> Response in
            let body = try await request.decode(as: BreakGlassRequest.self, context: context)
            let grant = try await breakGlass.grant(patientID: body.patientID, reason: body.reason, in: try context.requireTenant(),
                                                   by: AuditActor(request, context))
            var response = try JSONResponse.make(grant)
            response.status = .created
            return response
        }
        routes.on("listBreakGlassAccesses") { request, context -> Response in
            let reviewed = request.uri.queryParameters.get("reviewed") == "true"
            return try JSONResponse.make(ItemList(try await breakGlass.grants(reviewed: reviewed, in: try context.requireTenant())))
        }
        routes.on("reviewBreakGlassAccess") { request, context -> Response in
            let body = try await request.decodeIfPresent(as: ReviewRequest.self, context: context)
            return try JSONResponse.make(try await breakGlass.review(try context.parameters.require("id"), note: body?.note, in: try context.requireTenant(),
                                                             by: AuditActor(request, context)))
        }
    }
}

/// RFC 4180 CSV of audit events, safe to open in a spreadsheet.
enum AuditCSV {
    static let header = "seq,id,occurred_at,actor_type,actor_id,actor_name,actor_roles,action,resource_type,resource_id,patient_id,outcome,reason,client_address,request_id,hash\r\n"

    static func line(_ event: AuditEvent) -> String {
        let fields: [String?] = [
            String(event.seq), event.id, event.occurredAt, event.actorType.rawValue, event.actorID, event.actorName,
            event.actorRoles.joined(separator: " "), event.action, event.resourceType, event.resourceID, event.patientID,
            event.outcome.rawValue, event.reason, event.clientAddress, event.requestID, event.hash,
        ]
        return fields.map { $0.map(cell) ?? "" }.joined(separator: ",") + "\r\n"
    }

    /// One cell. Checked on the bytes: in Swift `"\r\n"` is one Character, so a character
    /// test for either alone misses it. A cell starting with `= + - @`, a tab or a carriage
    /// return would run as a formula in a spreadsheet (OWASP's CSV injection advice): it is
    /// prefixed with an apostrophe. A cell holding a comma, a quote or a line break is quoted,
    /// its quotes doubled.
    static func cell(_ value: String) -> String {
        var value = value
        if let first = value.utf8.first, formulaStarts.contains(first) { value = "'" + value }
        guard value.utf8.contains(where: { needsQuotes.contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static let formulaStarts: Set<UInt8> = Set("=+-@\t\r".utf8)
    private static let needsQuotes: Set<UInt8> = Set(",\"\r\n".utf8)
}
