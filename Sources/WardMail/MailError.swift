package import WardCore

/// Why a request about email was refused.
package enum MailError: Error, ProblemConvertible, Equatable {
    case unknownTemplate(String)
    case invalid([Problem.FieldError])

    package var problem: Problem {
        switch self {
        case .unknownTemplate(let name):
            Problem(status: 404, title: "Not found", detail: "No email template named \(name).")
        case .invalid(let errors):
            Problem(status: 422, title: "Invalid input", detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "), errors: errors)
        }
    }
}
