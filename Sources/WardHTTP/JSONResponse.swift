import Foundation
package import HTTPTypes
import WardCore
package import Hummingbird

/// JSON responses as every module writes them: sorted keys (stable output for clients and
/// tests), unescaped slashes, an optional ETag.
package enum JSONResponse {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, etag: String? = nil) throws -> Response {
        if let writable = value as? any JSONWritable { return make(writable, status: status, etag: etag) }
        return response(ByteBuffer(bytes: try encoder.encode(value)), status: status, etag: etag)
    }

    /// A value that writes its own JSON, its type known where it is called (no dynamic cast).
    package static func make(_ value: some JSONWritable, status: HTTPResponse.Status = .ok, etag: String? = nil) -> Response {
        var json = ""
        json.reserveCapacity(value.expectedJSONBytes)
        value.appendJSON(to: &json)
        return response(ByteBuffer(string: json), status: status, etag: etag)
    }

    private static let contentType = HTTPField(name: .contentType, value: "application/json")

    private static func response(_ body: ByteBuffer, status: HTTPResponse.Status, etag: String?) -> Response {
        // Built field by field: the dictionary-literal initializer validates names and values again.
        var headers = HTTPFields()
        headers.reserveCapacity(etag == nil ? 8 : 9)
        headers.append(contentType)
        if let etag { headers[.eTag] = etag }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// A value that writes its own JSON, as `JSONResponse`'s encoder would (keys sorted, absent
/// optionals left out): for the resources every benchmark call answers with, where the
/// general encoder's per-field dynamic dispatch was a tenth of a request.
package protocol JSONWritable: Encodable {
    func appendJSON(to json: inout String)
    /// About how long the JSON is, so the text is allocated once.
    var expectedJSONBytes: Int { get }
}

/// Writes one JSON object's members in the order they are added (callers add them sorted).
package struct JSONObjectWriter: ~Copyable {
    private var first = true

    package init(_ json: inout String) {
        json.append("{")
    }

    private mutating func key(_ name: StaticString, _ json: inout String) {
        json.append(first ? "\"" : ",\"")
        first = false
        json.append(name.description)
        json.append("\":")
    }

    /// A string member; left out when nil.
    package mutating func add(_ name: StaticString, _ value: String?, to json: inout String) {
        guard let value else { return }
        key(name, &json)
        JSONText.appendString(value, to: &json)
    }

    /// A string member written as null when nil.
    package mutating func addNullable(_ name: StaticString, _ value: String?, to json: inout String) {
        key(name, &json)
        if let value { JSONText.appendString(value, to: &json) } else { json.append("null") }
    }

    /// An integer member.
    package mutating func add(_ name: StaticString, _ value: Int, to json: inout String) {
        key(name, &json)
        json.append(String(value))
    }

    /// A boolean member.
    package mutating func add(_ name: StaticString, _ value: Bool, to json: inout String) {
        key(name, &json)
        json.append(value ? "true" : "false")
    }

    /// A member whose value is already JSON.
    package mutating func addRaw(_ name: StaticString, to json: inout String, _ write: (inout String) -> Void) {
        key(name, &json)
        write(&json)
    }

    package consuming func end(_ json: inout String) {
        json.append("}")
    }
}
