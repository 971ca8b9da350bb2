package import WardCore

/// Why a clinical request was refused.
package enum ClinicalError: Error, ProblemConvertible, Equatable {
    case invalid([Problem.FieldError])
    case notFound(String)
    case mrnTaken
    case medicationCodeTaken
    case versionMismatch(current: Int)
    case doubleBooked(appointmentID: String)
    case invalidTransition(from: String, to: String)
    case archived

    package var problem: Problem {
        switch self {
        case .invalid(let errors):
            Problem(status: 422, title: "Invalid input", detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: errors)
        case .notFound(let what):
            Problem(status: 404, title: "Not found", detail: "No \(what) with this id in this tenant.")
        case .mrnTaken:
            Problem(status: 409, title: "MRN in use", detail: "Another patient of this tenant has this medical record number.")
        case .medicationCodeTaken:
            Problem(status: 409, title: "Code in use", detail: "The formulary already has a medication with this code.",
                    errors: [.init(field: "code", message: "is already in the formulary")])
        case .versionMismatch(let current):
            Problem(status: 412, title: "Stale version", detail: "The record changed since it was read (now version \(current)); read it again and reapply the change.")
        case .doubleBooked(let id):
            Problem(status: 409, title: "Practitioner already booked", detail: "The practitioner has appointment \(id) in that interval.",
                    type: "https://ward.example/problems/double-booked")
        case .invalidTransition(let from, let to):
            Problem(status: 409, title: "Invalid status change", detail: "An appointment cannot go from \(from) to \(to).")
        case .archived:
            Problem(status: 409, title: "Archived", detail: "The patient is archived; restore the record before changing it.")
        }
    }
}
