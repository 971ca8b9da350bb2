package import Hummingbird
package import WardCore

/// Refuses a request whose principal lacks `permission`, before any of the route's work.
package struct RequirePermission: RouterMiddleware {
    package typealias Context = WardRequestContext
    package let permission: String
    package let breakGlassParameter: String?

    package init(_ permission: String, breakGlassParameter: String? = nil) {
        self.permission = permission
        self.breakGlassParameter = breakGlassParameter
    }

    package func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let principal = context.principal else { throw HTTPError(.internalServerError) }
        guard principal.permissions.contains(permission) else {
            if let breakGlassParameter, let patientID = context.parameters.get(breakGlassParameter),
               let grant = try await context.breakGlassCheck?(patientID) {
                var context = context
                context.breakGlassGrant = grant
                return try await next(request, context)
            }
            try await context.recordDenial?(permission, context.endpointPath ?? request.uri.path)
            throw PermissionDenied(permission: permission, secondFactorMissing: principal.secondFactorMissing)
        }
        return try await next(request, context)
    }
}

/// A principal lacking the permission a route declares.
package struct PermissionDenied: Error, ProblemConvertible {
    package let permission: String
    package let secondFactorMissing: Bool
    package var problem: Problem {
        secondFactorMissing
            ? Problem(status: 403, title: "Second factor required", detail: "Your role requires a second factor: enrol one at /api/v1/auth/totp/enrol first.")
            : Problem(status: 403, title: "Forbidden", detail: "This action needs the permission \(permission).")
    }
}

extension RouterGroup where Context == WardRequestContext {
    /// Registers `operation` under this group (whose path is `prefix`), guarded by the
    /// permission the operation declares: the declaration the OpenAPI document shows is the one
    /// enforced.
    @discardableResult
    package func add<Output: ResponseGenerator>(
        _ operation: APIOperation, prefix: String,
        use handler: @escaping @Sendable (Request, WardRequestContext) async throws -> Output
    ) -> Self {
        precondition(operation.path.hasPrefix(prefix), "\(operation.path) is not under \(prefix)")
        let path = RouterPath(String(operation.path.dropFirst(prefix.count)))
        let method: HTTPRequest.Method = switch operation.method {
        case .get: .get
        case .post: .post
        case .put: .put
        case .patch: .patch
        case .delete: .delete
        }
        if let permission = operation.permission {
            group().add(middleware: RequirePermission(permission, breakGlassParameter: operation.breakGlassParameter))
                .on(path, method: method, use: handler)
        } else {
            on(path, method: method, use: handler)
        }
        return self
    }
}
