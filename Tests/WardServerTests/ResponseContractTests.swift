import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardServer
import WardTestSupport

@Suite("Response contract")
struct ResponseContractTests {
    static let document = Data("""
        {"openapi": "3.1.0", "paths": {"/api/v1/beds/{id}": {"get": {"responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Bed"}}}},
            "204": {"description": "gone"},
            "404": {"$ref": "#/components/responses/Problem404"}}}}},
         "components": {
            "schemas": {
                "Bed": {"type": "object", "required": ["id", "beds"], "additionalProperties": false, "properties": {
                    "id": {"type": "string", "pattern": "^[a-z]+$"}, "beds": {"type": "integer", "minimum": 0},
                    "ward": {"type": ["string", "null"], "enum": ["icu", "er", null]}, "open": {"type": "boolean"}}},
                "Problem": {"type": "object", "required": ["title", "status"], "properties": {"title": {"type": "string"}, "status": {"type": "integer"}}}},
            "responses": {"Problem404": {"description": "no", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}}
        """.utf8)

    func check(_ status: Int, _ body: String, type: String? = "application/json", method: HTTPRequest.Method = .get,
               uri: String = "/api/v1/beds/a1?x=1") throws -> String? {
        try ResponseContract(document: Self.document).violation(method: method, uri: uri, status: status, contentType: type, body: ByteBuffer(string: body))
    }

    @Test("a response the document describes passes; any departure from it is named")
    func violations() throws {
        #expect(try check(200, #"{"id": "abc", "beds": 3, "ward": null, "open": true}"#) == nil)
        #expect(try check(404, #"{"title": "Not found", "status": 404}"#, type: "application/problem+json") == nil)
        #expect(try check(204, "", type: nil) == nil)
        // Unknown routes and methods are the edge's business, not the document's.
        #expect(try check(405, "", method: .delete) == nil)
        #expect(try check(404, "", uri: "/nowhere") == nil)

        #expect(try check(500, "{}")?.contains("lists no 500") == true)
        #expect(try check(200, #"{"id": "abc"}"#)?.contains("body lacks beds") == true)
        #expect(try check(200, #"{"id": "abc", "beds": "3"}"#)?.contains("body.beds is \"3\", not integer") == true)
        #expect(try check(200, #"{"id": "abc", "beds": true}"#)?.contains("not integer") == true)
        #expect(try check(200, #"{"id": "abc", "beds": 1.5}"#)?.contains("not integer") == true)
        #expect(try check(200, #"{"id": "abc", "beds": -1}"#)?.contains("below 0") == true)
        #expect(try check(200, #"{"id": "ABC", "beds": 1}"#)?.contains("does not match") == true)
        #expect(try check(200, #"{"id": "abc", "beds": 1, "ward": "ward 9"}"#)?.contains("is not one of") == true)
        #expect(try check(200, #"{"id": "abc", "beds": 1, "open": 1}"#)?.contains("not boolean") == true)
        #expect(try check(200, #"{"id": "abc", "beds": 1, "floor": 2}"#)?.contains("does not allow") == true)
        #expect(try check(200, #"{"id": "abc", "beds": 1}"#, type: "text/html")?.contains("is not among") == true)
        #expect(try check(404, #"{"title": "Not found"}"#, type: "application/problem+json")?.contains("lacks status") == true)
        #expect(try check(204, "x", type: nil)?.contains("without a body") == true)
    }

    @Test("the test client fails the request whose response the document does not describe")
    func client() async throws {
        let contract = try ResponseContract(document: Self.document)
        let router = Router()
        router.get("/api/v1/beds/{id}") { _, context -> Response in
            let body = context.parameters.get("id") == "good" ? #"{"id": "abc", "beds": 1}"# : #"{"id": "abc"}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await Application(router: router).test(.router) { (client: any TestClientProtocol) async throws in
            let documented = DocumentedClient(client, contract: contract)
            let good = try await documented.execute(uri: "/api/v1/beds/good", method: .get)
            #expect(good.status == .ok)
            await #expect(throws: ResponseContract.Violation.self) { _ = try await documented.execute(uri: "/api/v1/beds/drifted", method: .get) }
        }
    }
}
