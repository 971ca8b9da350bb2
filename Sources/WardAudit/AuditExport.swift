import Foundation
package import Hummingbird
import NIOCore
package import WardStorage

/// The audit trail exported as a download, for the API and the web app alike.
package enum AuditExport {
    /// The events `filter` selects, oldest page last, streamed as CSV or NDJSON: memory stays
    /// flat however long the trail. The export is itself an access to patient data: it is
    /// audited, and settled into the trail, before the first byte.
    package static func response(filter: AuditStore.Filter, csv: Bool, in scope: TenantScope, trail: AuditTrail, by actor: AuditActor) async throws -> Response {
        try await trail.record(actor.record("export", resourceType: "audit_events", details: ["format": csv ? "csv" : "ndjson"]), in: scope)
        try await trail.settle(scope)
        let body = ResponseBody { writer in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            if csv { try await writer.write(ByteBuffer(string: AuditCSV.header)) }
            var cursor: Int64?
            while true {
                let page = try await AuditStore.events(in: scope, filter: filter, before: cursor, limit: 1000)
                var chunk = ByteBuffer()
                for event in page {
                    if csv {
                        chunk.writeString(AuditCSV.line(event))
                    } else {
                        chunk.writeBytes(try encoder.encode(event))
                        chunk.writeString("\n")
                    }
                }
                if chunk.readableBytes > 0 { try await writer.write(chunk) }
                guard page.count == 1000, let last = page.last else { break }
                cursor = last.seq
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                      .contentDisposition: "attachment; filename=\"audit-\(scope.tenant.slug).\(csv ? "csv" : "ndjson")\""],
            body: body
        )
    }
}
