import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardClinical
import WardTestSupport

@Suite("Prescribing pages")
struct PrescribingPagesTests {
    @Test("a doctor finds a medication by a misspelt name, prescribes, and gets a sheet to print; incomplete rows are explained", arguments: TestBackend.allCases)
    func prescribe(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"], name: "Dana Whitfield")
                try await node.user("nurse@acme.test", roles: ["nurse"])
                let clinic = try await node.clinic()
                _ = try await node.prescribing.loadStarterFormulary(in: clinic.scope, by: .system)
                _ = try await clinic.scheduling.createPractitioner(name: "Dr. Dana Whitfield", specialty: nil, licenceNumber: "GMC-7012345", email: "doctor@acme.test",
                                                                   in: clinic.scope, by: .system)
                let patient = try await node.patient("Amara", "Okafor")
                let prescribing = try node.prescribing
                try await node.test { client in
                    let nurse = Browser(client)
                    try await nurse.signIn("nurse@acme.test")
                    #expect(try await nurse.get("/app/patients/\(patient.id)/prescribe").status == .forbidden)
                    #expect(!(try await nurse.get("/app/patients/\(patient.id)").text.contains("/prescribe\"")))

                    let doctor = Browser(client)
                    try await doctor.signIn("doctor@acme.test")
                    #expect(try await doctor.get("/app/patients/\(patient.id)").text.contains("/app/patients/\(patient.id)/prescribe"))
                    let search = try await doctor.get("/app/patients/\(patient.id)/prescribe?q=amoxicilin")
                    #expect(search.status == .ok)
                    let firstChoice = try #require(search.text.firstMatch(of: /<option value=""( selected)?>Choose…<\/option>\n<option value="([0-9a-f-]{36})">([^<]+)<\/option>/))
                    #expect(firstChoice.3.hasPrefix("Amoxicillin 500 mg capsule"))
                    let amoxicillin = String(firstChoice.2)
                    let token = try #require(Browser.formToken(search.text))

                    let incomplete = try await doctor.post("/app/patients/\(patient.id)/prescriptions", [
                        "items[0].medication_id": amoxicillin, "items[0].dose": "1 capsule", "items[0].route": "oral", "items[0].frequency": "three times a day",
                        "items[0].duration_days": "7", "items[1].dose": "2 tablets",
                    ], token: token)
                    #expect(incomplete.status == .unprocessableContent)
                    #expect(incomplete.text.contains(#"id="field-items-0--quantity-error""#))
                    #expect(incomplete.text.contains(#"id="field-items-1--medication-id-error""#))
                    #expect(try await prescribing.prescriptions(of: patient.id, in: clinic.scope, by: .system).isEmpty)

                    let issued = try await doctor.post("/app/patients/\(patient.id)/prescriptions", [
                        "items[0].medication_id": amoxicillin, "items[0].dose": "1 capsule", "items[0].route": "oral", "items[0].frequency": "three times a day",
                        "items[0].duration_days": "7", "items[0].quantity": "21", "items[0].instructions": "Finish the course",
                    ], token: token)
                    #expect(issued.status == .seeOther)
                    let sheet = try await doctor.get(try #require(issued.headers[.location]))
                    #expect(sheet.status == .ok)
                    #expect(sheet.text.contains("Prescription issued."))
                    #expect(sheet.text.contains("<td>Amoxicillin 500 mg capsule</td><td>1 capsule</td><td>oral</td><td>three times a day</td><td>7</td><td>21</td>"))
                    #expect(sheet.text.contains("Dana Whitfield, licence GMC-7012345"))
                    #expect(sheet.text.contains("Amara Okafor") && sheet.text.contains("Signature"))
                    #expect(sheet.text.contains("data-print"))
                    let stored = try await prescribing.prescriptions(of: patient.id, in: clinic.scope, by: .system)
                    #expect(stored.count == 1 && stored.first?.items.count == 1 && stored.first?.prescriberName == "Dana Whitfield")
                }
            }
        }
    }
}
