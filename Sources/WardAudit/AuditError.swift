package import WardCore

/// What the audit module refuses, as problem documents.
package enum AuditError: Error, ProblemConvertible, Equatable {
    /// A break-glass request or review of the wrong form: 422 naming the fields.
    case invalidBreakGlass([Problem.FieldError])
    /// No break-glass grant with this id in the tenant: 404.
    case grantNotFound

    package var problem: Problem {
        switch self {
        case .invalidBreakGlass(let errors):
            Problem(status: 422, title: "Invalid break-glass request", detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "),
                    errors: errors)
        case .grantNotFound:
            Problem(status: 404, title: "Not found", detail: "No break-glass grant with this id.")
        }
    }
}
