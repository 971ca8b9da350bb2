package import AsyncHTTPClient
import Crypto
package import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Objects in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph, moto), addressed by
/// path (`endpoint/bucket/key`), every request signed with SigV4. Objects larger than one part
/// go up as a multipart upload; a failed upload is aborted. Requests the store refuses for
/// load (5xx, 429, SlowDown) or that meet a broken connection are retried with backoff.
package struct S3ObjectStore: ObjectStore {
    package var kind: String { "s3" }
    let endpoint: URL
    package let bucket: String
    /// Prepended to every key (no leading or trailing slash), so one bucket can serve several
    /// installations.
    package let prefix: String
    let signer: SigV4Signer
    let client: HTTPClient
    /// Parts of a multipart upload (S3's least is 5 MiB); smaller objects go in one PUT.
    let partSize: Int
    /// Bytes of parts held in memory at once, over every upload of this node: four parts, so
    /// four uploads go to the store at once and the others wait, their bodies unread.
    let budget: ByteBudget
    static let attempts = 4

    /// `setting` names the variable `url` came from, for the messages of a misconfiguration
    /// (documents and backups each have their own).
    package init(url: URLComponents, credentials: SigV4Signer.Credentials?, setting: String = "WARD_STORAGE_URL", partSize: Int = 5 * 1024 * 1024,
                 client: HTTPClient = .shared) throws {
        guard let bucket = url.host, !bucket.isEmpty else { throw ObjectStoreError.misconfigured("\(setting) s3:// needs a bucket: s3://bucket/prefix") }
        guard let credentials else {
            throw ObjectStoreError.misconfigured("an s3:// store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE forms)")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let region = query["region"] ?? "us-east-1"
        let endpoint = query["endpoint"] ?? "https://s3.\(region).amazonaws.com"
        guard let endpointURL = URL(string: endpoint), let scheme = endpointURL.scheme, ["http", "https"].contains(scheme), endpointURL.host != nil else {
            throw ObjectStoreError.misconfigured("\(setting) endpoint \(endpoint) must be an http(s) URL")
        }
        self.endpoint = endpointURL
        self.bucket = bucket
        self.prefix = url.path.split(separator: "/").joined(separator: "/")
        self.signer = SigV4Signer(credentials: credentials, region: region)
        self.client = client
        self.partSize = max(5 * 1024 * 1024, partSize)
        self.budget = ByteBudget(limit: 4 * self.partSize)
    }

    func fullKey(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix)/\(key)" }

    // MARK: Objects

    package func put(_ key: String, body: ByteStream) async throws -> Int {
        let key = fullKey(key)
        var iterator = body.makeAsyncIterator()
        // Sized once: grown by writes, a buffer would double to the next power of two.
        var part = ByteBuffer()
        part.reserveCapacity(partSize + 256 * 1024)
        var uploadID: String?
        var etags: [String] = []
        var total = 0
        var ended = false
        try await budget.acquire(partSize)
        do {
            while true {
                while !ended, part.readableBytes < partSize {
                    guard var buffer = try await iterator.next() else {
                        ended = true
                        break
                    }
                    total += buffer.readableBytes
                    part.writeBuffer(&buffer)
                }
                if ended, uploadID == nil {
                    // The whole object fits in one part: one PUT.
                    _ = try await send("PUT", key: key, body: part, expecting: [200])
                    break
                }
                if part.readableBytes > 0 {
                    if uploadID == nil { uploadID = try await createUpload(key) }
                    let chunk = part.readSlice(length: min(part.readableBytes, partSize))!
                    let number = String(etags.count + 1)
                    let response = try await send("PUT", key: key, query: [("partNumber", number), ("uploadId", uploadID!)], body: chunk, expecting: [200])
                    guard let etag = response.headers.first(name: "etag") else { throw ObjectStoreError.unavailable("the store returned no ETag for part \(number)") }
                    etags.append(etag)
                    part.discardReadBytes()
                }
                if ended, part.readableBytes == 0 {
                    try await completeUpload(key, uploadID: uploadID!, etags: etags)
                    break
                }
            }
        } catch {
            await budget.release(partSize)
            if let uploadID { _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)], expecting: [204, 200, 404]) }
            throw error
        }
        await budget.release(partSize)
        return total
    }

    private func createUpload(_ key: String) async throws -> String {
        let response = try await send("POST", key: key, query: [("uploads", "")], expecting: [200])
        guard let id = XMLText.first("UploadId", in: response.body) else { throw ObjectStoreError.unavailable("the store returned no UploadId") }
        return id
    }

    private func completeUpload(_ key: String, uploadID: String, etags: [String]) async throws {
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(XMLText.escape($0.element))</ETag></Part>" }.joined()
        let xml = "<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>"
        let response = try await send("POST", key: key, query: [("uploadId", uploadID)], body: ByteBuffer(string: xml), expecting: [200])
        // S3 may answer 200 and still report an error in the body.
        if XMLText.first("Code", in: response.body) != nil, XMLText.first("Message", in: response.body) != nil, !response.body.contains("<CompleteMultipartUploadResult") {
            throw ObjectStoreError.unavailable("completing the upload failed: \(XMLText.first("Message", in: response.body) ?? "")")
        }
    }

    package func get(_ key: String, range: Range<Int>?) async throws -> ByteStream {
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        let response = try await execute("GET", key: fullKey(key), headers: headers, streaming: true)
        guard [200, 206].contains(response.status.code) else {
            let text = String(buffer: try await response.body.collect(upTo: 64 * 1024))
            if response.status == .notFound { throw ObjectStoreError.notFound(key) }
            throw ObjectStoreError.unavailable("GET answered \(response.status.code): \(XMLText.first("Message", in: text) ?? text.prefix(200).description)")
        }
        return ByteStream(response.body)
    }

    package func delete(_ key: String) async throws {
        _ = try await send("DELETE", key: fullKey(key), expecting: [204, 200, 404])
    }

    package func list(prefix listed: String) async throws -> [String] {
        try await objects(prefix: listed).map(\.key)
    }

    /// One object as a listing describes it.
    package struct Listed: Sendable, Equatable {
        /// The key, without the store's prefix.
        package var key: String
        package var size: Int
        package var modified: Date?
    }

    /// Every object under `prefix` with its size and time (ListObjectsV2, a page of up to
    /// 1,000 at a time, following the continuation token).
    package func objects(prefix listed: String) async throws -> [Listed] {
        var objects: [Listed] = []
        var token: String?
        let strip = prefix.isEmpty ? 0 : prefix.count + 1
        let times = ISO8601DateFormatter()
        times.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let wholeSeconds = ISO8601DateFormatter()
        repeat {
            var query = [("list-type", "2"), ("prefix", fullKey(listed))]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query, expecting: [200])
            for entry in XMLText.all("Contents", in: response.body, unescaping: false) {
                guard let key = XMLText.first("Key", in: entry) else { continue }
                let modified = XMLText.first("LastModified", in: entry).flatMap { times.date(from: $0) ?? wholeSeconds.date(from: $0) }
                objects.append(Listed(key: String(key.dropFirst(strip)), size: XMLText.first("Size", in: entry).flatMap { Int($0) } ?? 0, modified: modified))
            }
            token = XMLText.first("IsTruncated", in: response.body) == "true" ? XMLText.first("NextContinuationToken", in: response.body) : nil
        } while token != nil
        return objects
    }

    /// The folders directly under `prefix` (its common prefixes up to the next `/`, as
    /// ListObjectsV2 with a delimiter gives them), without the store's prefix or the trailing
    /// slash: a page lists a thousand folders however many objects each holds.
    package func folders(prefix listed: String) async throws -> [String] {
        var folders: [String] = []
        var token: String?
        let strip = fullKey(listed).count
        repeat {
            var query = [("list-type", "2"), ("prefix", fullKey(listed)), ("delimiter", "/")]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query, expecting: [200])
            for common in XMLText.all("CommonPrefixes", in: response.body, unescaping: false) {
                guard let folder = XMLText.first("Prefix", in: common), folder.count > strip else { continue }
                folders.append(String(folder.dropFirst(strip).dropLast(folder.hasSuffix("/") ? 1 : 0)))
            }
            token = XMLText.first("IsTruncated", in: response.body) == "true" ? XMLText.first("NextContinuationToken", in: response.body) : nil
        } while token != nil
        return folders
    }

    package func check() async throws {
        _ = try await send("HEAD", key: nil, expecting: [200])
    }

    // MARK: Requests

    struct Answer {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: String
    }

    /// Sends a request with a body held in memory, retried on throttling, 5xx and broken
    /// connections; a status outside `expecting` throws with the store's message.
    private func send(_ method: String, key: String?, query: [(String, String)] = [], body: ByteBuffer? = nil, expecting: Set<UInt>) async throws -> Answer {
        var delay = Duration.milliseconds(100)
        for attempt in 1...Self.attempts {
            do {
                let response = try await execute(method, key: key, query: query, body: body, streaming: false)
                let text = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
                if expecting.contains(response.status.code) { return Answer(status: response.status, headers: response.headers, body: text) }
                let retryable = response.status.code >= 500 || response.status.code == 429 || text.contains("<Code>SlowDown</Code>")
                let message = XMLText.first("Message", in: text) ?? XMLText.first("Code", in: text) ?? "\(response.status)"
                if !retryable || attempt == Self.attempts {
                    throw ObjectStoreError.unavailable("\(method) answered \(response.status.code): \(message)")
                }
            } catch let error as ObjectStoreError {
                throw error
            } catch {
                if attempt == Self.attempts { throw ObjectStoreError.unavailable("\(method) failed: \(error)") }
            }
            try await Task.sleep(for: delay * Double.random(in: 0.8...1.2))
            delay *= 2
        }
        throw ObjectStoreError.unavailable("\(method) failed")
    }

    private func execute(_ method: String, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: ByteBuffer? = nil,
                         streaming: Bool) async throws -> HTTPClientResponse {
        let path = "/" + SigV4Signer.encode(bucket) + (key.map { "/" + SigV4Signer.encode($0, keepingSlash: true) } ?? "")
        let basePath = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let fullPath = basePath + path
        var host = endpoint.host!
        if let port = endpoint.port { host += ":\(port)" }
        let payloadHash: String = body.map { SigV4Signer.hex(SHA256.hash(data: $0.readableBytesView)) } ?? SigV4Signer.emptyPayloadHash
        var headers = [("host", host)] + extra
        if let body { headers.append(("content-length", String(body.readableBytes))) }
        let signed = signer.sign(method: method, path: fullPath, query: query, headers: headers, payloadHash: payloadHash, date: Date())
        let queryString = query.map { $0.1.isEmpty && $0.0 == "uploads" ? "uploads" : "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }
            .joined(separator: "&")
        var request = HTTPClientRequest(url: "\(endpoint.scheme!)://\(host)\(fullPath)" + (queryString.isEmpty ? "" : "?\(queryString)"))
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers + signed where name != "host" && name != "content-length" { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        return try await client.execute(request, timeout: streaming ? .seconds(300) : .seconds(60))
    }
}

/// A count of bytes that concurrent uploads share: each waits for its part's room.
actor ByteBudget {
    private let limit: Int
    private var used = 0
    private var waiting: [(Int, CheckedContinuation<Void, Never>)] = []

    init(limit: Int) { self.limit = limit }

    func acquire(_ bytes: Int) async throws {
        if used + bytes <= limit {
            used += bytes
            return
        }
        await withCheckedContinuation { waiting.append((bytes, $0)) }
    }

    func release(_ bytes: Int) {
        used -= bytes
        while let (wanted, continuation) = waiting.first, used + wanted <= limit {
            waiting.removeFirst()
            used += wanted
            continuation.resume()
        }
    }
}

/// The few elements of S3's XML answers Ward reads.
enum XMLText {
    /// The text of each `element`, unescaped; an element holding others (`Contents`) is kept
    /// as XML (`unescaping: false`) so its children are unescaped once, when they are read.
    static func all(_ element: String, in xml: String, unescaping: Bool = true) -> [String] {
        var values: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(element)>"), let close = rest.range(of: "</\(element)>", range: open.upperBound..<rest.endIndex) {
            let inner = String(rest[open.upperBound..<close.lowerBound])
            values.append(unescaping ? unescape(inner) : inner)
            rest = rest[close.upperBound...]
        }
        return values
    }

    static func first(_ element: String, in xml: String) -> String? { all(element, in: xml).first }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#34;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
}
