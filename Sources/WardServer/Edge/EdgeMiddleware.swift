import Foundation
import HTTPTypes
import Hummingbird
import WardHTTP
import Logging
import WardCore
import WardStorage

/// The first and last thing every request meets: it settles the request id, enforces the body
/// limit and the request timeout, renders every error as problem+json, adds security headers,
/// counts and times the request by route template, and writes one JSON access-log line.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = WardRequestContext

    let settings: WardSettings
    let metrics: WardMetrics
    let accessLog: AccessLog
    let routes: RouteMethods
    let rateLimiter: RateLimiter
    let crossOrigin: CrossOrigin
    /// Where read replicas serve: the node's sessions' last commit positions.
    let sessionPositions: SessionPositions?
    private let deadlines: RequestDeadlines

    init(settings: WardSettings, metrics: WardMetrics, accessLog: AccessLog, routes: RouteMethods, rateLimiter: RateLimiter, crossOrigin: CrossOrigin,
         sessionPositions: SessionPositions? = nil) {
        self.sessionPositions = sessionPositions
        self.rateLimiter = rateLimiter
        self.crossOrigin = crossOrigin
        self.settings = settings
        self.metrics = metrics
        self.accessLog = accessLog
        self.routes = routes
        self.deadlines = RequestDeadlines(limit: settings.requestTimeout)
    }

    func handle(
        _ request: Request, context: WardRequestContext,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        if let incoming = request.headers.value(.requestID), RequestID.isWellFormed(incoming[...]) {
            context.requestID = incoming
        } else {
            context.requestID = RequestID.make()
        }
        context.bodyLimit = settings.bodyLimit
        context.rateLimiter = rateLimiter
        // Behind a trusted proxy the client is the last address it appended; anything before
        // that was written by the client and cannot be trusted.
        if settings.trustProxy, let forwarded = request.headers[.xForwardedFor],
           let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty {
            context.clientAddress = last
        }
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let trace = context.trace

        var response: Response
        let origin = CrossOrigin.applies(to: request.uri.path) ? request.headers[.origin] : nil
        if let refusal = frontDoor(request, requestID: context.requestID) {
            response = refusal
        } else if origin != nil, CrossOrigin.isPreflight(request) {
            response = await crossOrigin.preflight(request, requestID: context.requestID)
        } else if let refusal = await anonymousRefusal(request, context: context) {
            response = refusal
        } else {
            do {
                // A file (a type no JSON or form route reads: those refuse it as 415 unread) may be
                // as large as a document, which the upload route enforces again as the bytes arrive,
                // and take as long as the largest one needs on a slow uplink.
                let isFile = Self.isFile(request)
                let limit = isFile ? max(settings.bodyLimit, settings.documents.uploadLimit) : settings.bodyLimit
                if let declared = request.headers.value(.contentLength).flatMap({ Int($0) }), declared > limit {
                    throw HTTPError(.contentTooLarge)
                }
                var request = request
                if settings.logBodies {
                    // Development only (production refuses the setting): bodies hold patient data.
                    let body = try await request.collectBody(upTo: settings.bodyLimit)
                    context.logger.info("request body", metadata: ["body": .string(String(buffer: body.getSlice(at: body.readerIndex, length: min(body.readableBytes, 4096)) ?? body))])
                }
                if let sessionPositions {
                    let consistency = ReadAfterWrite.consistency(for: request, sessions: sessionPositions)
                    response = try await ReadConsistency.$current.withValue(consistency) {
                        try await withTimeout(request: request, context: context, limit: isFile ? uploadDeadline : nil, next: next)
                    }
                    if let committed = consistency.committed {
                        ReadAfterWrite.mark(&response, committed: committed, request: request, secure: isSecure(request))
                    }
                } else {
                    response = try await withTimeout(request: request, context: context, limit: isFile ? uploadDeadline : nil, next: next)
                }
            } catch let error as HTTPError where error.status == .notFound && error.body == nil {
                // The router's own 404: the path may be known under other methods.
                if let allowed = routes.allowed(for: request.uri.path) {
                    response = ProblemRendering.response(for: MethodNotAllowed(allowed: allowed), requestID: context.requestID, logger: context.logger)
                    response.headers[.allow] = allowed.joined(separator: ", ")
                } else {
                    response = ProblemRendering.response(for: error, requestID: context.requestID, logger: context.logger)
                }
            } catch {
                response = ProblemRendering.response(for: error, requestID: context.requestID, logger: context.logger)
            }
        }
        // Refusals too (a 429, a 400): a browser on an allowed origin may read why.
        if let origin, !CrossOrigin.isPreflight(request) { await crossOrigin.decorate(&response, origin: origin, tenant: trace.tenantID) }
        applyHeaders(to: &response, request: request, requestID: context.requestID)

        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        let status = Int(response.status.code)
        metrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: elapsed)
        accessLog.record(
            requestID: context.requestID, method: request.method.rawValue, route: route, status: status, duration: elapsed,
            tenantID: trace.tenantID, userID: trace.userID
        )
        return response
    }

    /// The answer for a request the node does not serve as asked, before any work: a Host it
    /// does not answer for (400: DNS rebinding, forged links), or plain HTTP where HTTPS is
    /// required (308 to HTTPS for GET and HEAD; 400 for the rest, whose body is not sent again).
    /// Health probes, addressed by IP over plain HTTP inside the cluster, are let through.
    private func frontDoor(_ request: Request, requestID: String) -> Response? {
        let path = request.uri.path
        guard !(path.hasPrefix("/health/") || path == "/metrics") else { return nil }
        let authority = request.head.authority ?? ""
        var problem: Problem
        if !settings.allowedHosts.isEmpty, !HostRules.matches(HostRules.host(ofAuthority: authority), settings.allowedHosts) {
            problem = Problem(status: 400, title: "Unknown host", detail: "This server does not answer for that host name.")
        } else if settings.httpsRedirect, !isSecure(request) {
            if request.method == .get || request.method == .head, !authority.isEmpty {
                return Response(status: .permanentRedirect, headers: [.location: "https://\(authority)\(request.uri.description)"])
            }
            problem = Problem(status: 400, title: "HTTPS required", detail: "Send this request over HTTPS.")
        } else {
            return nil
        }
        problem.requestID = requestID
        return ProblemRendering.response(for: problem)
    }

    /// The 429 for an API request without credentials from an address over the `address`
    /// policy; nil when it may go on. Signed-in calls are counted per user further in, so
    /// staff sharing one address behind a NAT are never limited as one client.
    private func anonymousRefusal(_ request: Request, context: WardRequestContext) async -> Response? {
        guard CrossOrigin.applies(to: request.uri.path), request.headers[.authorization] == nil,
              let admission = await rateLimiter.admit([("address", context.clientAddress)]) else { return nil }
        return admission.refusalResponse(requestID: context.requestID)
    }

    /// Whether the request reached the TLS-terminating proxy over HTTPS, by its word.
    private func isSecure(_ request: Request) -> Bool {
        settings.trustProxy && request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    /// Whether the body is a file (anything but JSON, a urlencoded form or nothing). Most
    /// requests carry no Content-Type and cost one header lookup.
    static func isFile(_ request: Request) -> Bool {
        guard let header = request.headers[.contentType] else { return false }
        let type = header.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return !(type.isEmpty || type == "application/json" || type.hasSuffix("+json") || type == "application/x-www-form-urlencoded")
    }

    /// How long a file upload may take: the request timeout, or the largest document at
    /// 256 KiB/s (a scan sent over a clinic's slow uplink), whichever is longer: 100 s for
    /// 25 MiB.
    var uploadDeadline: Duration {
        max(settings.requestTimeout, .seconds(settings.documents.uploadLimit / (256 * 1024)))
    }

    private static let securityHeaders = [
        HTTPField(name: .xContentTypeOptions, value: "nosniff"),
        HTTPField(name: .xFrameOptions, value: "DENY"),
        HTTPField(name: .contentSecurityPolicy, value: "default-src 'self'; frame-ancestors 'none'"),
        HTTPField(name: .referrerPolicy, value: "no-referrer"),
    ]
    private static let noStore = HTTPField(name: .cacheControl, value: "no-store")

    private func applyHeaders(to response: inout Response, request: Request, requestID: String) {
        // Appended rather than set: nothing below the edge sets these, and each set scans the fields.
        response.headers.append(HTTPField(name: .requestID, value: requestID))
        response.headers.append(contentsOf: Self.securityHeaders)
        // Responses carry patient data: no shared or browser cache may keep them.
        if !response.headers.contains(.cacheControl) { response.headers.append(Self.noStore) }
        if isSecure(request) {
            response.headers[.strictTransportSecurity] = settings.hstsPreload ? "max-age=63072000; includeSubDomains; preload" : "max-age=63072000; includeSubDomains"
        }
    }

    /// Runs the rest of the stack, answering `RequestTimedOut` if it outlives `limit` (the
    /// request timeout when nil).
    private func withTimeout(
        request: Request, context: WardRequestContext, limit: Duration?,
        next: (Request, WardRequestContext) async throws -> Response
    ) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            // `next` is called exactly once, from the one child task `run` awaits before
            // returning, so it is never used concurrently or after this call ends.
            let handler = UncheckedSendableBox(next)
            return try await deadlines.run(limit: limit) { try await handler.value(request, context) }
        }
    }
}

/// Carries a non-Sendable value into a child task. Only for values used by exactly one task
/// at a time, as the caller's comment must show.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-ID")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}
