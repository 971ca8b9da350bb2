package import WardCore

/// What a document request can fail with, as the problem it answers.
package enum DocumentError: Error, ProblemConvertible {
    case notFound(String)
    case tooLarge(limit: Int)
    case unsupportedType(String)
    case contentMismatch(declared: String, actual: String?)
    case rangeNotSatisfiable(size: Int)
    case archived
    case invalid([Problem.FieldError])
    case damaged
    case storeUnavailable

    package var problem: Problem {
        switch self {
        case .notFound(let what):
            Problem(status: 404, title: "Not found", detail: "No such \(what) in this clinic.")
        case .tooLarge(let limit):
            Problem(status: 413, title: "Document too large", detail: "A document may hold at most \(limit) bytes.")
        case .unsupportedType(let type):
            Problem(status: 415, title: "Unsupported media type",
                    detail: "\(type.isEmpty ? "No Content-Type" : type) is not accepted; send one of \(DocumentMediaType.allCases.map(\.rawValue).joined(separator: ", ")).")
        case .contentMismatch(let declared, let actual):
            Problem(status: 415, title: "Content does not match its type",
                    detail: "The content was declared \(declared) but its first bytes are \(actual.map { "those of \($0)" } ?? "of no accepted type").")
        case .rangeNotSatisfiable(let size):
            Problem(status: 416, title: "Range not satisfiable", detail: "The document holds \(size) bytes.")
        case .archived:
            Problem(status: 409, title: "Document archived", detail: "The document is archived already.")
        case .invalid(let errors):
            Problem(status: 422, title: "Invalid document", detail: "Some fields are invalid.", errors: errors)
        case .damaged:
            Problem(status: 500, title: "Stored document is damaged",
                    detail: "The stored copy failed its integrity check; nothing was served. Restore it from a backup.")
        case .storeUnavailable:
            Problem(status: 503, title: "Document store unavailable", detail: "The document store did not answer; try again.")
        }
    }

    package var retryAfter: Int? {
        if case .storeUnavailable = self { return 5 }
        return nil
    }
}
