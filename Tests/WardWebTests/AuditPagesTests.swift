import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardAudit
import WardTestSupport

@Suite("Audit pages and emergency access")
struct AuditPagesTests {
    @Test("the auditor filters the trail and exports it as CSV; the export is itself audited; others may not", arguments: TestBackend.allCases)
    func trail(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("auditor@acme.test", roles: ["auditor"], name: "Avery Audit")
                try await node.user("nurse@acme.test", roles: ["nurse"], name: "Noor Nurse")
                let clinic = try await node.clinic()
                let patient = try await node.patient("Lin", "Wei")
                try await node.test { client in
                    let nurse = Browser(client), auditor = Browser(client)
                    try await nurse.signIn("nurse@acme.test")
                    #expect(try await nurse.get("/app/patients/\(patient.id)").status == .ok)
                    #expect(try await nurse.get("/app/audit").status == .forbidden)
                    #expect(try await nurse.get("/app/audit/export").status == .forbidden)
                    try await auditor.signIn("auditor@acme.test")
                    try await clinic.audit.settle(clinic.scope)

                    let all = try await auditor.get("/app/audit")
                    #expect(all.status == .ok)
                    #expect(all.text.contains("Noor Nurse") && all.text.contains("<td>login</td>"))
                    let reads = try await auditor.get("/app/audit?action=read&patient_id=\(patient.id)")
                    #expect(reads.text.contains("<td>read</td>") && !reads.text.contains("<td>login</td>"))
                    #expect(reads.text.contains(#"href="/app/audit/export?patient_id=\#(patient.id)&amp;action=read""#))
                    let wrong = try await auditor.get("/app/audit?from=yesterday&outcome=maybe")
                    #expect(wrong.status == .unprocessableContent)
                    #expect(wrong.text.contains(#"id="field-from-error""#) && wrong.text.contains(#"id="field-outcome-error""#))

                    let export = try await auditor.get("/app/audit/export?action=read")
                    #expect(export.status == .ok)
                    #expect(export.headers[.contentType] == "text/csv; charset=utf-8")
                    let lines = export.text.split(separator: "\r\n")
                    #expect(lines.first?.hasPrefix("seq,id,occurred_at") == true)
                    #expect(lines.count >= 2 && lines.dropFirst().allSatisfy { $0.contains(",read,") })
                    let exports = try await clinic.audit.events(in: clinic.scope, filter: .init(), before: nil, limit: 100).filter { $0.action == "export" }
                    #expect(exports.count == 1 && exports.first?.actorName == "Avery Audit")
                }
            }
        }
    }

    @Test("a role that may only open records in an emergency gives a reason first; the read is audited as break-glass", arguments: TestBackend.allCases)
    func emergencyAccess(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let clinic = try await node.clinic()
                _ = try await node.services.identity.createRole(in: clinic.scope, name: "porter", description: "Moves patients",
                                                                permissions: ["patients:break_glass"], by: .system)
                try await node.user("porter@acme.test", roles: ["porter"])
                _ = try await node.services.identity.createRole(in: clinic.scope, name: "archivist", description: "Files",
                                                                permissions: ["reports:read"], by: .system)
                try await node.user("archivist@acme.test", roles: ["archivist"])
                let patient = try await node.patient("Sami", "Virtanen")
                try await node.test { client in
                    let porter = Browser(client)
                    try await porter.signIn("porter@acme.test")
                    let asked = try await porter.get("/app/patients/\(patient.id)")
                    #expect(asked.status == .forbidden)
                    #expect(asked.text.contains("Emergency access") && !asked.text.contains("Virtanen"))
                    let token = try #require(Browser.formToken(asked.text))
                    let short = try await porter.post("/app/patients/\(patient.id)/break-glass", ["reason": "urgent"], token: token)
                    #expect(short.status == .unprocessableContent)
                    #expect(short.text.contains("The record was not opened."))
                    let opened = try await porter.post("/app/patients/\(patient.id)/break-glass",
                                                       ["reason": "Patient collapsed in the corridor and needs allergy history"], token: token)
                    #expect(opened.status == .seeOther)
                    let chart = try await porter.get("/app/patients/\(patient.id)")
                    #expect(chart.status == .ok && chart.text.contains("Sami Virtanen"))
                    #expect(!chart.text.contains("Edit details"), "emergency access reads; it does not edit")
                    try await clinic.audit.settle(clinic.scope)
                    let reads = try await clinic.audit.events(in: clinic.scope, filter: .init(), before: nil, limit: 100)
                        .filter { $0.action == "read" && $0.patientID == patient.id }
                    #expect(reads.contains { $0.reason == "break-glass" && $0.details["break_glass_grant"] != nil })
                    // Without the permission there is no form to fill: a plain refusal.
                    let archivist = Browser(client)
                    try await archivist.signIn("archivist@acme.test")
                    let refused = try await archivist.get("/app/patients/\(patient.id)")
                    #expect(refused.status == .forbidden && !refused.text.contains("Emergency access"))
                }
            }
        }
    }
}
