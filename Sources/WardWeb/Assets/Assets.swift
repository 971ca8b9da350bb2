import Crypto
import Foundation
import Hummingbird
import NIOCore

/// A static file of the web app, embedded in the binary (one file to deploy) and served under a
/// name holding a hash of its content: a browser may keep it for a year, and a new release's
/// file has a new name.
struct Asset: Sendable {
    /// `/app/assets/ward.<hash>.css`
    let path: String
    let contentType: String
    let body: ByteBuffer

    init(name: String, extension fileExtension: String, contentType: String, text: String) {
        let digest = SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        path = "/app/assets/\(name).\(digest).\(fileExtension)"
        self.contentType = contentType
        body = ByteBuffer(string: text)
    }

    static let stylesheet = Asset(name: "ward", extension: "css", contentType: "text/css; charset=utf-8", text: Stylesheet.text)
    static let script = Asset(name: "ward", extension: "js", contentType: "text/javascript; charset=utf-8", text: Script.text)
    static let all = [stylesheet, script]

    /// The response serving this file.
    var response: Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "public, max-age=31536000, immutable"],
                 body: .init(byteBuffer: body))
    }
}
