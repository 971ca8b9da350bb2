import Foundation
import HTTPTypes
import Hummingbird
import WardAudit
import WardBilling
import WardClinical
import WardCore
import WardHTTP
import WardParking

/// The attendant's screen: a car park's zones right now, the reservations to come, and the
/// gate (check a plate in or out). Shown to `parking:read`; the gate needs `parking:write`.
struct ParkingPages: Sendable {
    let app: WebApp

    struct ZoneRow { let name: String; let kind: String; let spots: Int; let free: Int; let occupied: Int; let reserved: Int; let overstaying: Int }
    struct BookingRow { let plate: String; let spot: String; let window: String; let status: String }
    struct PermitRow { let plate: String; let days: String; let hours: String; let validity: String; let status: String }
    struct DayRow {
        let name: String; let kind: String; let spots: Int; let bookings: Int; let cancelled: Int; let noShows: Int; let checkIns: Int
        let occupied: String; let occupancy: String; let peak: Int; let revenue: String
    }
    struct ReportModel {
        let shell: Shell
        var fields: [Field]
        let facilityName: String
        var date: String
        var hours: String
        var zones: [DayRow]
        var hasFacility: Bool
        var problem: String?
        var problemDetail: String?
    }
    struct Model {
        let shell: Shell
        var fields: [Field]
        let facilityName: String
        let facilityID: String
        let zones: [ZoneRow]
        let bookings: [BookingRow]
        let permits: [PermitRow]
        let hasFacility: Bool
        let canOperate: Bool
        var gate: [Field]
        var notice: String?
        var problem: String?
        var problemDetail: String?
    }

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("parking") { request, context in try await show(request, context) }
        signedIn.post("parking/gate") { request, context in try await gate(request, context) }
        signedIn.get("parking/report") { request, context in try await report(request, context) }
    }

    /// A car park's local day, zone by zone (`ParkingService.dailyReport`).
    func report(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("parking:read", request, context)
        let scope = try context.requireTenant()
        let facilities = try await app.parking.facilities(in: scope)
        let query = request.uri.queryParameters
        let chosen = facilities.first { $0.id == query.get("facility") } ?? facilities.first
        let asked = query.get("date").flatMap { $0.isEmpty ? nil : $0 }
        var model = ReportModel(
            shell: try app.shell(context, current: "/app/parking"),
            fields: [Field.select("facility", "Car park", choices: facilities.map { ($0.id, $0.name) }, value: chosen?.id),
                     Field("date", "Day", type: "date", value: asked)],
            facilityName: chosen?.name ?? "", date: asked ?? "", hours: "", zones: [], hasFacility: chosen != nil
        )
        guard let chosen else { return app.renderer.page("parking-report", model) }
        let report: OccupancyReport
        do {
            report = try await app.parking.dailyReport(facilityID: chosen.id, date: asked, in: scope)
        } catch ParkingError.invalid {
            // The day the service refuses is explained in the form it came from.
            model.hasFacility = false
            model.problem = "There is no such day."
            model.problemDetail = "Choose a date such as 2027-03-28."
            var response = app.renderer.page("parking-report", model)
            response.status = .init(code: 422)
            return response
        }
        let currency = Currency(try await app.billing.settings.current(in: scope).currency) ?? Currency("USD")!
        model.date = report.date
        model.fields[1] = Field("date", "Day", type: "date", value: report.date)
        model.hours = report.hours == 24 ? "" : "This day had \(Int(report.hours)) hours (the clocks changed)."
        model.zones = report.zones.map {
            DayRow(name: $0.name, kind: $0.kind, spots: $0.spots, bookings: $0.bookings, cancelled: $0.cancelled, noShows: $0.noShows,
                   checkIns: $0.checkIns, occupied: String(format: "%.1f h", $0.occupiedHours), occupancy: String(format: "%.1f%%", $0.occupancyPercent),
                   peak: $0.peak, revenue: currency.format($0.revenue))
        }
        return app.renderer.page("parking-report", model)
    }

    func show(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("parking:read", request, context)
        let notice: String? = switch request.uri.queryParameters.get("done") {
        case "checked_in": "Checked in."
        case "completed": "Checked out" + (request.uri.queryParameters.get("amount").map { ": \($0) to pay." } ?? ".")
        default: nil
        }
        return try await page(request, context, facilityID: request.uri.queryParameters.get("facility"), plate: nil, notice: notice)
    }

    func gate(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("parking:write", request, context)
        let form = try await FormBody.read(request)
        let scope = try context.requireTenant(), actor = AuditActor(request, context)
        let facility = form["facility"] ?? "", plate = form["plate"] ?? ""
        do {
            if form["action"] == "out" {
                let booking = try await app.parking.checkOut(plate: plate, facilityID: facility, in: scope, by: actor)
                let currency = Currency(try await app.billing.settings.current(in: scope).currency) ?? Currency("USD")!
                let amount = booking.amount.map { currency.format($0) } ?? ""
                let due = booking.invoiceID == nil && (booking.amount ?? 0) > 0 ? "&amount=\(amount.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" : ""
                return Response.seeOther("/app/parking?facility=\(facility)&done=completed\(due)")
            }
            _ = try await app.parking.checkIn(plate: plate, facilityID: facility, in: scope, by: actor)
            return Response.seeOther("/app/parking?facility=\(facility)&done=checked_in")
        } catch let error as ParkingError {
            let problem = error.problem
            var response = try await page(request, context, facilityID: facility, plate: plate, notice: nil,
                                          problem: "The gate did not open: \(problem.title.lowercased()).",
                                          detail: problem.errors.map { $0.map { "\($0.message)." }.joined(separator: " ") } ?? problem.detail)
            response.status = .init(code: problem.status)
            return response
        }
    }

    private func page(_ request: Request, _ context: WardRequestContext, facilityID: String?, plate: String?, notice: String?, problem: String? = nil,
                      detail: String? = nil) async throws -> Response {
        let scope = try context.requireTenant(), actor = AuditActor(request, context)
        let facilities = try await app.parking.facilities(in: scope)
        let chosen = facilities.first { $0.id == facilityID } ?? facilities.first
        var zones: [ZoneRow] = [], bookings: [BookingRow] = [], permits: [PermitRow] = []
        if let chosen {
            let occupancy = try await app.parking.occupancy(facilityID: chosen.id, in: scope)
            zones = occupancy.zones.map {
                ZoneRow(name: $0.name, kind: $0.kind, spots: $0.spots - $0.outOfService, free: max(0, $0.spots - $0.outOfService - $0.occupied - $0.reserved),
                        occupied: $0.occupied, reserved: $0.reserved, overstaying: $0.overstaying)
            }
            let zone = TimeZone(identifier: chosen.timeZone) ?? .gmt
            bookings = try await app.parking.bookings(facilityID: chosen.id, status: "reserved", limit: 50, in: scope, by: actor).map {
                BookingRow(plate: $0.plate, spot: $0.spotCode ?? "", window: ClinicalDocuments.localTime($0.startsAt, zone: zone.identifier) + " – "
                           + ClinicalDocuments.localTime($0.endsAt, zone: zone.identifier), status: $0.status)
            }
            permits = try await app.parking.permits(facilityID: chosen.id, in: scope).map {
                PermitRow(plate: $0.plate, days: $0.days.map { $0.capitalized }.joined(separator: ", "), hours: "\($0.fromTime)–\($0.untilTime)",
                          validity: "\($0.validFrom) to \($0.validUntil)", status: $0.status)
            }
        }
        let principal = try context.requirePrincipal()
        let model = Model(
            shell: try app.shell(context, current: "/app/parking"),
            fields: [Field.select("facility", "Car park", choices: facilities.map { ($0.id, $0.name) }, value: chosen?.id)],
            facilityName: chosen?.name ?? "", facilityID: chosen?.id ?? "", zones: zones, bookings: bookings, permits: permits, hasFacility: chosen != nil,
            canOperate: principal.permissions.contains("parking:write") && chosen != nil,
            gate: [Field("plate", "Plate", value: plate, hint: "As on the vehicle; spaces and dashes do not matter", required: true),
                   Field.select("action", "At the gate", choices: [("in", "Check in"), ("out", "Check out")], value: "in")],
            notice: notice, problem: problem, problemDetail: detail
        )
        return app.renderer.page("parking", model)
    }
}
