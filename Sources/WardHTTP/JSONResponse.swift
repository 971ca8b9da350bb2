import Foundation
package import HTTPTypes
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
        var headers: HTTPFields = [.contentType: "application/json"]
        if let etag { headers[.eTag] = etag }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
