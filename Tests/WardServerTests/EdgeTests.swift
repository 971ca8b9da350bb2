import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardCore
import WardHTTP
import WardServer
import WardTestSupport

@Suite("Edge")
struct EdgeTests {
    @Test("an unknown route answers a 404 problem")
    func unknownRoute() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    try await client.execute(uri: "/no/such/route", method: .get) { response in
                        #expect(response.status == .notFound)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(response.json["status"] as? Int == 404)
                        #expect(response.json["title"] as? String != nil)
                        #expect(response.json["request_id"] as? String == response.headers[HTTPField.Name("X-Request-ID")!])
                    }
                }
            }
        }
    }

    @Test("a body over the limit answers 413 and never reaches the handler")
    func bodyLimit() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_BODY_LIMIT": "1024"]) { node in
                try await node.test { client in
                    let big = ByteBuffer(string: #"{"name":""# + String(repeating: "a", count: 2048) + #""}"#)
                    try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"], body: big) { response in
                        #expect(response.status == .contentTooLarge)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(response.json["status"] as? Int == 413)
                    }
                    let small = ByteBuffer(string: #"{"name":"Ada"}"#)
                    try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"], body: small) { response in
                        #expect(response.status == .ok)
                        #expect(response.json["name"] as? String == "Ada")
                    }
                }
            }
        }
    }

    @Test("malformed JSON answers a 400 problem that does not echo the body")
    func malformedJSON() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: #"{"name": "Ada"#)) { response in
                        #expect(response.status == .badRequest)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect((response.json["detail"] as? String)?.contains("not valid JSON") == true)
                        #expect(!response.text.contains("Ada"))
                    }
                    try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: #"{"nom": "Ada"}"#)) { response in
                        #expect(response.status == .badRequest)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect((response.json["detail"] as? String)?.contains("name") == true)
                    }
                }
            }
        }
    }

    @Test("an unexpected error answers a generic 500 and is logged with the request id")
    func internalError() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    try await client.execute(uri: "/test/fail", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "trace-500"]) { response in
                        #expect(response.status == .internalServerError)
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(!response.text.contains("SELECT"))
                        #expect(!response.text.contains("/var/lib"))
                        #expect(response.json["request_id"] as? String == "trace-500")
                    }
                }
                let errorLine = node.logs.lines.first { $0.contains("unhandled error") }
                #expect(errorLine?.contains("trace-500") == true)
                #expect(errorLine?.contains("\"level\":\"error\"") == true)
            }
        }
    }

    @Test("a well-formed request id is echoed and logged; a malformed one is replaced")
    func requestID() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "abc-123"]) { response in
                        #expect(response.headers[HTTPField.Name("X-Request-ID")!] == "abc-123")
                    }
                    try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "bad id\"{"]) { response in
                        let echoed = response.headers[HTTPField.Name("X-Request-ID")!] ?? ""
                        #expect(echoed != "bad id\"{")
                        #expect(RequestID.isWellFormed(echoed[...]))
                    }
                }
                let lines = node.accessLines
                #expect(lines.count == 2)
                let first = try #require(lines.first)
                #expect(first["request_id"] as? String == "abc-123")
                #expect(first["method"] as? String == "GET")
                #expect(first["route"] as? String == "/health")
                #expect(first["status"] as? Int == 200)
                #expect(first["duration_ms"] is Double || first["duration_ms"] is Int)
                #expect(first["timestamp"] is String)
                #expect(first["level"] as? String == "info")
            }
        }
    }

    @Test("a header's value is the subscript's: absent, single, or repeated fields joined")
    func headerValues() {
        let tenant = HTTPField.Name("X-Tenant-ID")!
        var fields: HTTPFields = [.authorization: "Bearer abc", .accept: "text/html"]
        #expect(fields.value(.authorization) == "Bearer abc")
        #expect(fields.value(HTTPField.Name("authorization")!) == "Bearer abc")
        #expect(fields.value(tenant) == nil)
        fields.append(HTTPField(name: .accept, value: "application/json"))
        #expect(fields.value(.accept) == "text/html, application/json")
        #expect(fields.value(.accept) == fields[.accept])
    }

    @Test("a request id sent twice is replaced, not echoed or joined")
    func repeatedRequestID() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    var headers = HTTPFields()
                    headers.append(HTTPField(name: HTTPField.Name("X-Request-ID")!, value: "first-id"))
                    headers.append(HTTPField(name: HTTPField.Name("X-Request-ID")!, value: "second-id"))
                    try await client.execute(uri: "/health", method: .get, headers: headers) { response in
                        let echoed = response.headers[values: HTTPField.Name("X-Request-ID")!]
                        #expect(echoed.count == 1)
                        #expect(!["first-id", "second-id", "first-id, second-id"].contains(echoed.first ?? ""))
                        #expect(RequestID.isWellFormed((echoed.first ?? "")[...]))
                    }
                }
            }
        }
    }

    @Test("every response carries the security headers; HSTS only over HTTPS behind a trusted proxy")
    func securityHeaders() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_TRUST_PROXY": "true"]) { node in
                try await node.test { client in
                    try await client.execute(uri: "/health", method: .get) { response in
                        #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                        #expect(response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true)
                        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] != nil)
                        #expect(response.headers[.strictTransportSecurity] == nil)
                        #expect(response.headers[values: .cacheControl] == ["no-store"])
                        #expect(response.headers[values: HTTPField.Name("X-Request-ID")!].count == 1)
                    }
                    try await client.execute(uri: "/nowhere", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]) { response in
                        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                        #expect(response.headers[.strictTransportSecurity]?.hasPrefix("max-age=") == true)
                    }
                }
            }
            try await TestNode.with(site) { node in
                try await node.test { client in
                    try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]) { response in
                        #expect(response.headers[.strictTransportSecurity] == nil)
                    }
                }
            }
        }
    }

    @Test("a request outliving the timeout answers a 503 problem")
    func timeout() async throws {
        try await withTestSite(.sqlite) { site in
            // Two seconds: a quick request on a machine busy with the rest of the suite stays
            // well inside it.
            try await TestNode.with(site, settings: ["WARD_REQUEST_TIMEOUT": "2"]) { node in
                try await node.test { client in
                    try await client.execute(uri: "/test/slow?ms=10000", method: .get) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.json["title"] as? String == "Request timed out")
                    }
                    try await client.execute(uri: "/test/slow?ms=10", method: .get) { response in
                        #expect(response.status == .ok)
                    }
                }
            }
        }
    }

    @Test("body logging, for development only, logs the body and still hands it to the route")
    func bodyLogging() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_LOG_BODIES": "true"]) { node in
                try await node.test { client in
                    try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: #"{"name":"Grace"}"#)) { response in
                        #expect(response.json["name"] as? String == "Grace")
                    }
                }
                #expect(node.logs.lines.contains { $0.contains("request body") && $0.contains("Grace") })
            }
            try await TestNode.with(site) { node in
                try await node.test { client in
                    _ = try await client.execute(uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"name":"Grace"}"#))
                }
                #expect(!node.logs.lines.contains { $0.contains("Grace") })
            }
        }
    }
}
