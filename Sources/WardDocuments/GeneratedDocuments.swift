import Foundation
import NIOCore
import NIOFoundationCompat
import WardAudit
import WardCore
import WardClinical
import WardStorage

/// The documents Ward writes itself, filed into the patient's record like any other: a copy
/// of the prescription as issued, category `generated`, its source naming the prescription.
struct GeneratedDocuments: Sendable {
    let documents: PatientDocuments
    let clinical: ClinicalDocuments

    func file(_ prescriptionID: String, in scope: TenantScope, by actor: AuditActor) async throws -> PatientDocument {
        let (pdf, patientID, issued) = try await clinical.prescriptionDocument(prescriptionID, in: scope, by: actor)
        let zone = TimeZone(identifier: scope.tenant.timeZone) ?? .gmt
        let day = Timestamp.date(issued).map { Timestamp.format($0, "yyyy-MM-dd", in: zone) }
        return try await documents.file(.of(ByteBuffer(data: pdf)),
                                        .init(title: "Prescription issued \(day ?? issued)", category: .generated, documentDate: day, declaredType: .pdf,
                                              source: "prescription:\(prescriptionID)"),
                                        patientID: patientID, in: scope, by: actor)
    }
}
