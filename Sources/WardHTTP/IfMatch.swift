package import Hummingbird
package import WardCore

/// `If-Match` as Ward reads it: the ETag of one version of a record, `"3"` or `W/"3"`. Checked
/// by `OperationGuard` on every operation that reads it, before any work: a value of another
/// form is refused (400), not taken for a version it does not name, and a required one that is
/// missing answers 428 (RFC 6585). An empty field is of another form too, as the document's
/// pattern says.
package enum IfMatch {
    /// The form, as the OpenAPI document shows it.
    package static let pattern = #"^(W/)?"[0-9]{1,18}"$"#

    /// The version `value` names, or nil when it is not of the form.
    package static func version(_ value: String) -> Int? {
        var text = Substring(value)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        guard text.count >= 3, text.first == "\"", text.last == "\"" else { return nil }
        let digits = text.dropFirst().dropLast()
        guard (1...18).contains(digits.count), digits.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(digits)
    }

    /// The version the request's `If-Match` names; nil when it has none; 400 when its value
    /// is not of the form.
    package static func version(of request: Request) throws -> Int? {
        guard let value = request.headers.value(.ifMatch) else { return nil }
        guard let version = version(value) else { throw InvalidIfMatch() }
        return version
    }

    /// The version the request's `If-Match` names; 428 without one, 400 when malformed.
    package static func requiredVersion(of request: Request) throws -> Int {
        guard let version = try version(of: request) else { throw IfMatchRequired() }
        return version
    }
}

/// An `If-Match` of another form than one ETag Ward issued: 400, naming the header.
package struct InvalidIfMatch: Error, ProblemConvertible {
    package var problem: Problem {
        let message = "must be one ETag as given by this API, such as \"3\""
        return Problem(status: 400, title: "Invalid header", detail: "If-Match \(message).", errors: [.init(field: "If-Match", message: message)])
    }
}

/// A change that needs `If-Match` sent without it: 428.
package struct IfMatchRequired: Error, ProblemConvertible {
    package var problem: Problem {
        Problem(status: 428, title: "If-Match required", detail: "Send the ETag of the version you read as If-Match.")
    }
}
