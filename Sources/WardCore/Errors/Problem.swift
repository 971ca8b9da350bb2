/// An RFC 9457 problem document: the one shape of every error Ward answers.
package struct Problem: Codable, Sendable, Equatable {
    /// One invalid field of a request, for 422 answers.
    package struct FieldError: Codable, Sendable, Equatable {
        package var field: String
        package var message: String
        package init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    package var type: String
    package var title: String
    package var status: Int
    package var detail: String?
    package var instance: String?
    package var requestID: String?
    package var errors: [FieldError]?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, errors
        case requestID = "request_id"
    }

    package init(
        status: Int, title: String, detail: String? = nil, type: String? = nil,
        errors: [FieldError]? = nil
    ) {
        self.type = type ?? "about:blank"
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
    }

    /// The media type problems are served as.
    package static let mediaType = "application/problem+json"
}

/// An error that knows the problem it answers as. Every module's error enum conforms, so the
/// edge can render it without knowing the module.
package protocol ProblemConvertible: Error {
    /// The problem this error is answered with. Never holds SQL, paths or stack traces.
    var problem: Problem { get }
    /// Seconds a client should wait before trying again (`Retry-After`), when that applies.
    var retryAfter: Int? { get }
}

extension ProblemConvertible {
    package var retryAfter: Int? { nil }
}
