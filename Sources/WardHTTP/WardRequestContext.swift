package import Hummingbird
import Logging
import Synchronization
package import WardStorage

/// What the edge learns about a request as it passes down the stack (the tenant, later the
/// user), kept in one shared box so the access log written on the way out can name them.
package final class RequestTrace: Sendable {
    private struct Fields { var tenantID: String?; var userID: String? }
    private let fields = Mutex(Fields())

    package init() {}

    package var tenantID: String? {
        get { fields.withLock { $0.tenantID } }
        set { fields.withLock { $0.tenantID = newValue } }
    }

    package var userID: String? {
        get { fields.withLock { $0.userID } }
        set { fields.withLock { $0.userID = newValue } }
    }
}

/// The per-request context of every Ward route.
package struct WardRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The request id, accepted from `X-Request-ID` or made by the edge.
    package var requestID = ""
    /// The tenant the request acts in; set by the tenancy middleware on tenant routes.
    package var tenant: TenantScope?
    /// Shared with the edge for the access log.
    package var trace = RequestTrace()
    /// The largest body this request may send; set by the edge from configuration.
    package var bodyLimit = 10 * 1024 * 1024
    /// The authenticated caller; set by the authentication middleware.
    package var principal: Principal?
    /// The authenticated control-plane administrator, on platform routes.
    package var platformAdminID: String?
    /// Records a refused permission in the audit trail; set with the principal. The refusal is
    /// answered only after this returns.
    package var recordDenial: (@Sendable (_ permission: String, _ route: String) async throws -> Void)?
    /// The caller's active break-glass grant for a patient, if any; set with the principal.
    package var breakGlassCheck: (@Sendable (_ patientID: String) async throws -> String?)?
    /// The grant that opened this request when the permission itself was missing.
    package var breakGlassGrant: String?
    /// The client's address: the peer, or with a trusted proxy the address it forwarded.
    package var clientAddress: String
    /// The node's rate limiter; set by the edge.
    package var rateLimiter: RateLimiter?
    /// The shape the operation's request body must have; set by its `OperationGuard`.
    package var bodyShape: BodyShape?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    package var maxUploadSize: Int { bodyLimit }

    /// JSON bodies are decoded refusing text the databases cannot store and any other shape
    /// than the operation declares.
    package var requestDecoder: JSONBodyDecoder { JSONBodyDecoder(shape: bodyShape) }

    /// The tenant scope, or a 500 when a route that needs one was registered outside the
    /// tenancy middleware (a programming error, never a client's).
    package func requireTenant() throws -> TenantScope {
        guard let tenant else { throw HTTPError(.internalServerError) }
        return tenant
    }

    /// The authenticated caller, or a 500 when a route that needs one was registered outside
    /// the authentication middleware.
    package func requirePrincipal() throws -> Principal {
        guard let principal else { throw HTTPError(.internalServerError) }
        return principal
    }
}
