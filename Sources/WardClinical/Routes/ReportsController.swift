package import Foundation
import HTTPTypes
package import Hummingbird
import NIOCore
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/reports/daily`: a clinic's day in numbers, as JSON or (with `Accept:
/// application/pdf` or `format=pdf`) as the PDF its administrators are mailed.
package struct ReportsController: Sendable {
    let documents: ClinicalDocuments
    let audit: AuditTrail

    package static let operations: [APIOperation] = [
        APIOperation("dailyReport", .get, "/api/v1/reports/daily",
                     summary: "A day's report (the stored one once the job counted it, else counted now): JSON, or PDF with Accept: application/pdf",
                     tag: "reports", access: .staff, permission: "reports:read", success: (200, "application/json", DailyReport.self), problems: [400, 401, 403, 422])
            .query(QueryParameter("date", .date, "The clinic's local day, yyyy-MM-dd; today (so far) when absent"),
                   QueryParameter("format", .choice(["json", "pdf"]), "json (default) or pdf, as Accept may also say"))
            .alsoAnswering("application/pdf"),
    ]

    package func routes(_ routes: inout ModuleRoutes) {
        let documents = self.documents, audit = self.audit
        routes.on("dailyReport") { request, context -> Response in
            let scope = try context.requireTenant()
            let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
            let day = request.uri.queryParameters.get("date") ?? DailyReport.day(endingAt: Date(), in: zone)
            let wantsPDF = request.uri.queryParameters.get("format") == "pdf"
                || (request.uri.queryParameters.get("format") == nil && request.headers[.accept]?.contains("application/pdf") == true)
            var report = try await DailyReport.find(day: day, in: scope)
            if report == nil { report = try await DailyReport.count(day: day, in: scope) }
            guard let report else { throw ClinicalError.notFound("report") }
            try await audit.record(AuditActor(request, context).record("read", resourceType: "daily_report", resourceID: day,
                                                                       details: ["format": wantsPDF ? "pdf" : "json"]), in: scope)
            guard wantsPDF else { return try JSONResponse.make(report) }
            return PDFResponse.make(try await documents.dailyReportPDF(report, in: scope), filename: "daily-report-\(day).pdf")
        }
    }
}

/// A PDF answer (the API's and the web app's): shown inline, named for saving, never cached (it
/// holds patient data).
package enum PDFResponse {
    package static func make(_ pdf: Data, filename: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: "application/pdf", .contentDisposition: "inline; filename=\"\(filename)\"", .cacheControl: "no-store",
        ], body: .init(byteBuffer: ByteBuffer(bytes: pdf)))
    }
}
