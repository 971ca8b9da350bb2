import Foundation
package import Hummingbird
package import Logging
import NIOCore
package import WardCore

/// Turns any error reaching the edge into an `application/problem+json` response. Errors that
/// know their problem answer with it; Hummingbird's own HTTP errors keep their status; anything
/// else is logged with the request id and answered with a generic 500 that leaks nothing.
package enum ProblemRendering {
    /// The problem for `error`, logging unexpected errors at error level.
    package static func problem(for error: any Error, requestID: String, logger: Logger) -> Problem {
        var problem: Problem
        switch error {
        case let convertible as any ProblemConvertible:
            problem = convertible.problem
        case let httpError as HTTPError:
            problem = Problem(
                status: Int(httpError.status.code),
                title: httpError.status.reasonPhrase.isEmpty ? "Error" : httpError.status.reasonPhrase,
                detail: httpError.status.code < 500 ? httpError.body : nil
            )
            if httpError.status == .notFound, httpError.body == nil { problem.detail = "No resource matches this path." }
            if httpError.status == .contentTooLarge { problem.detail = "The request body exceeds the limit." }
        case is NIOTooManyBytesError:
            // A body collected under a limit (JSON, a form) that outgrew it as it arrived: sent
            // without Content-Length, so the edge could not refuse it up front.
            problem = Problem(status: 413, title: "Content Too Large", detail: "The request body exceeds the limit.")
        case let decoding as DecodingError:
            problem = Problem(status: 400, title: "Malformed request body", detail: describe(decoding))
        case is RequestTimedOut:
            problem = Problem(status: 503, title: "Request timed out", detail: "The request took too long and was stopped; try again.")
        default:
            logger.error("unhandled error", metadata: ["request_id": "\(requestID)", "error": "\(String(reflecting: error))"])
            problem = Problem(status: 500, title: "Internal server error", detail: "The error was logged with this request id.")
        }
        problem.requestID = requestID
        return problem
    }

    /// The response for `error`: its problem, with `Retry-After` when the error gives one.
    package static func response(for error: any Error, requestID: String, logger: Logger) -> Response {
        let problem = problem(for: error, requestID: requestID, logger: logger)
        var headers: HTTPFields = [:]
        if let seconds = (error as? any ProblemConvertible)?.retryAfter { headers[.retryAfter] = String(seconds) }
        return response(for: problem, headers: headers)
    }

    /// The problem as a response.
    package static func response(for problem: Problem, headers extra: HTTPFields = [:]) -> Response {
        let body = (try? encoder.encode(problem)) ?? Data(#"{"title":"Internal server error","status":500}"#.utf8)
        var headers = extra
        headers[.contentType] = Problem.mediaType
        if problem.status == 503 || problem.status == 429, headers[.retryAfter] == nil { headers[.retryAfter] = "1" }
        return Response(
            status: .init(code: problem.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Says what is wrong with a body without echoing it: the field path and the kind of fault.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "the body" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "The body is not valid JSON."
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)) has an invalid value."
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is required."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type."
        @unknown default:
            return "The body could not be read."
        }
    }
}

/// Thrown when a request outlives the configured request timeout.
package struct RequestTimedOut: Error {
    package init() {}
}
