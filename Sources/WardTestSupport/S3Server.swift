package import Foundation

/// A real S3-compatible server on loopback: moto's standalone server with SigV4 checked
/// (`scripts/lib/s3-server.py`), started once per test process, and boto3 as an independent
/// client to look into its bucket (`scripts/lib/s3-inspect.py`).
package final class S3Server: Sendable {
    package let port: Int
    package let accessKeyID: String
    package let secretAccessKey: String
    package let bucket: String
    private let process: TestProcess
    private let input: Pipe

    private static let sharedServer = SharedHelper(S3Server.start)

    /// The suite's server, started on first use.
    package static func shared() async throws -> S3Server {
        try await sharedServer.server()
    }

    static func start() throws -> S3Server {
        let server = try HelperServer.start("s3-server.py")
        let words = server.greeting
        guard words.count == 8, words[0] == "port", let port = Int(words[1]) else {
            server.process.terminate()
            throw ServerError(message: "the S3 server did not start (is moto installed? pip install 'moto[server]'): \(words.joined(separator: " "))")
        }
        return S3Server(port: port, accessKeyID: words[3], secretAccessKey: words[5], bucket: words[7], process: server.process, input: server.input)
    }

    private init(port: Int, accessKeyID: String, secretAccessKey: String, bucket: String, process: TestProcess, input: Pipe) {
        self.port = port
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.bucket = bucket
        self.process = process
        self.input = input
    }

    package var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The settings of a node keeping its documents under `prefix` of this server's bucket.
    package func settings(prefix: String, secret: String? = nil) -> [String: String] {
        ["WARD_STORAGE_URL": "s3://\(bucket)/\(prefix)?endpoint=\(endpoint)&region=us-east-1",
         "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secret ?? secretAccessKey]
    }

    /// What boto3 finds under `prefix`: the keys, their sizes, and whether any holds `needle`.
    package struct Listing: Decodable {
        package let keys: [String]
        package let sizes: [String: Int]
        package let plaintextFound: Bool
        enum CodingKeys: String, CodingKey { case keys, sizes, plaintextFound = "plaintext_found" }
    }

    package func list(prefix: String, needle: [UInt8] = []) async throws -> Listing {
        let hex = needle.map { String(format: "%02x", $0) }.joined()
        let result = try await ExternalTool.run("python3", [HelperServer.scripts.appendingPathComponent("s3-inspect.py").path, endpoint, accessKeyID, secretAccessKey, bucket,
                                                            "list", prefix, hex])
        guard result.status == 0 else { throw ServerError(message: "s3-inspect failed: \(result.output)") }
        return try JSONDecoder().decode(Listing.self, from: Data(result.output.utf8))
    }

    /// The keys under `prefix` with a multipart upload begun and neither completed nor aborted.
    package func pendingUploads(prefix: String) async throws -> [String] {
        struct Pending: Decodable { let uploads: [String] }
        let result = try await ExternalTool.run("python3", [HelperServer.scripts.appendingPathComponent("s3-inspect.py").path, endpoint, accessKeyID, secretAccessKey, bucket,
                                                            "uploads", prefix])
        guard result.status == 0 else { throw ServerError(message: "s3-inspect failed: \(result.output)") }
        return try JSONDecoder().decode(Pending.self, from: Data(result.output.utf8)).uploads
    }

    /// Flips one bit of the object `key` at `offset`, as damage in the store would.
    package func corrupt(_ key: String, at offset: Int) async throws {
        let result = try await ExternalTool.run("python3", [HelperServer.scripts.appendingPathComponent("s3-inspect.py").path, endpoint, accessKeyID, secretAccessKey, bucket,
                                                            "corrupt", key, String(offset)])
        guard result.status == 0 else { throw ServerError(message: "s3-inspect failed: \(result.output)") }
    }

    struct ServerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
