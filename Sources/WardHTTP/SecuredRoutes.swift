package import Hummingbird
import HTTPTypes
package import WardCore

/// Guards one operation before any of its work: the caller must hold the permission it
/// declares (or, where it allows, a break-glass grant for the patient); its path and query
/// parameters and `If-Match` must be of their declared form; a JSON body must say so in
/// `Content-Type`, and is later decoded against the operation's declared shape.
package struct OperationGuard: RouterMiddleware {
    package typealias Context = WardRequestContext
    let permission: String?
    let breakGlassParameter: String?
    let pathParameters: [(name: String, format: ParameterFormat)]
    let query: [String: ParameterFormat]
    let takesJSON: Bool
    let bodyShape: BodyShape?
    let ifMatch: Bool?
    let rateLimit: String?

    package init(_ operation: APIOperation) {
        permission = operation.permission
        breakGlassParameter = operation.breakGlassParameter
        pathParameters = operation.pathParameters
        query = Dictionary(operation.query.map { ($0.name, $0.format) }, uniquingKeysWith: { first, _ in first })
        takesJSON = operation.request != nil
        bodyShape = operation.requestShape
        ifMatch = operation.ifMatch
        rateLimit = operation.rateLimit
    }

    package func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let permission {
            guard let principal = context.principal else { throw HTTPError(.internalServerError) }
            if !principal.permissions.contains(permission) {
                if let breakGlassParameter, let patientID = context.parameters.get(breakGlassParameter),
                   ParameterFormat.uuid.problem(with: patientID) == nil,
                   let grant = try await context.breakGlassCheck?(patientID) {
                    context.breakGlassGrant = grant
                } else {
                    try await context.recordDenial?(permission, context.endpointPath ?? request.uri.path)
                    throw PermissionDenied(permission: permission, secondFactorMissing: principal.secondFactorMissing)
                }
            }
        }
        for (name, format) in pathParameters {
            let value = context.parameters.get(name) ?? ""
            if let message = format.problem(with: value) { throw InvalidPathParameter(field: name, message: message) }
        }
        if request.uri.query != nil { try checkQuery(request) }
        if let required = ifMatch {
            if required { _ = try IfMatch.requiredVersion(of: request) } else { _ = try IfMatch.version(of: request) }
        }
        context.bodyShape = bodyShape
        if takesJSON, Self.hasBody(request), !Self.isJSON(request.headers.value(.contentType)) { throw UnsupportedMediaType() }
        // Counted once the caller is known to be permitted: per user (access tokens) or per
        // administrator (the control plane), and per route class. A request refused as
        // malformed (its body is read by the handler) is given back, so mistakes cost nothing.
        var uses: [(policy: String, key: String)] = []
        if let principal = context.principal {
            let key = principal.tenant + "/" + principal.userID
            uses.append(("user", key))
            if let rateLimit { uses.append((rateLimit, key)) }
        } else if let admin = context.platformAdminID {
            uses.append(("platform", admin))
        }
        guard !uses.isEmpty, let limiter = context.rateLimiter, let admission = await limiter.admit(uses) else {
            return try await next(request, context)
        }
        if let refusal = admission.refusalResponse(requestID: context.requestID) { return refusal }
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: admission.headers)
            return response
        } catch {
            if Self.isMalformed(error) { limiter.giveBack(admission) }
            throw error
        }
    }

    private func checkQuery(_ request: Request) throws {
        for (name, value) in request.uri.queryParameters {
            if let format = query[String(name)] {
                if let message = format.problem(with: String(value)) { throw InvalidQuery(field: String(name), message: message) }
            } else if TextRules.hasControlCharacter(String(value)) {
                throw InvalidQuery(field: String(name), message: "must not contain control characters")
            }
        }
    }

    /// Whether `error` refuses the request's form (400, 415, 422) rather than its effect.
    static func isMalformed(_ error: any Error) -> Bool {
        let status: Int
        switch error {
        case is DecodingError: return true
        case let http as HTTPError: status = Int(http.status.code)
        case let convertible as any ProblemConvertible: status = convertible.problem.status
        default: return false
        }
        return [400, 415, 422].contains(status)
    }

    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers.value(.contentLength) { return length != "0" }
        return request.headers.value(.transferEncoding) != nil
    }

    /// `application/json`, or a `+json` type, with any parameters.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}

/// A path parameter of the wrong form: 400, naming it.
package struct InvalidPathParameter: Error, ProblemConvertible {
    package let field: String
    package let message: String
    package var problem: Problem {
        Problem(status: 400, title: "Invalid path parameter", detail: "\(field) \(message).", errors: [.init(field: field, message: message)])
    }
}

/// A body that is not JSON where the operation reads JSON: 415.
package struct UnsupportedMediaType: Error, ProblemConvertible {
    package var problem: Problem {
        Problem(status: 415, title: "Unsupported media type", detail: "Send the body as application/json.")
    }
}

/// A principal lacking the permission a route declares.
package struct PermissionDenied: Error, ProblemConvertible {
    package let permission: String
    package let secondFactorMissing: Bool

    package init(permission: String, secondFactorMissing: Bool) {
        self.permission = permission
        self.secondFactorMissing = secondFactorMissing
    }
    package var problem: Problem {
        secondFactorMissing
            ? Problem(status: 403, title: "Second factor required", detail: "Your role requires a second factor: enrol one at /api/v1/auth/totp/enrol first.")
            : Problem(status: 403, title: "Forbidden", detail: "This action needs the permission \(permission).")
    }
}

extension RouterGroup where Context == WardRequestContext {
    /// Registers `operation` in this group (which adds no path of its own), guarded by what
    /// the operation declares (`OperationGuard`): the declaration the OpenAPI document shows is
    /// the one enforced.
    @discardableResult
    package func add<Output: ResponseGenerator>(
        _ operation: APIOperation, use handler: @escaping @Sendable (Request, WardRequestContext) async throws -> Output
    ) -> Self {
        let path = RouterPath(operation.path)
        let method: HTTPRequest.Method = switch operation.method {
        case .get: .get
        case .post: .post
        case .put: .put
        case .patch: .patch
        case .delete: .delete
        }
        group().add(middleware: OperationGuard(operation)).on(path, method: method, use: handler)
        return self
    }
}
