package import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Stripe stand-in on loopback: localstripe (`scripts/lib/stripe-server.py`), started once
/// per test process. It keeps PaymentIntents, charges and refunds, and signs and delivers
/// webhooks to the URLs registered with it. `sign` signs payloads with the official `stripe`
/// Python library, an implementation independent of Ward's.
package final class StripeServer: Sendable {
    package let port: Int
    private let process: TestProcess
    private let input: Pipe

    private static let sharedServer = SharedHelper(StripeServer.start)

    /// The suite's server, started on first use.
    package static func shared() async throws -> StripeServer {
        try await sharedServer.server()
    }

    static func start() throws -> StripeServer {
        let server = try HelperServer.start("stripe-server.py")
        let words = server.greeting
        guard words.count == 2, words[0] == "port", let port = Int(words[1]) else {
            server.process.terminate()
            throw ServerError(message: "the Stripe stand-in did not start (is localstripe installed? pip install localstripe): \(words.joined(separator: " "))")
        }
        return StripeServer(port: port, process: server.process, input: server.input)
    }

    private init(port: Int, process: TestProcess, input: Pipe) {
        self.port = port
        self.process = process
        self.input = input
    }

    package var endpoint: String { "http://127.0.0.1:\(port)" }

    /// A node's settings for card payments through this server.
    package var settings: [String: String] { ["WARD_STRIPE_API_URL": endpoint] }

    /// Asks the server to deliver its events to `url`, signed with `secret`.
    package func registerWebhook(id: String, url: String, secret: String) async throws {
        _ = try await call("POST", "/_config/webhooks/\(id)", form: [("url", url), ("secret", secret)], key: nil)
    }

    /// A Stripe API call as a browser's Stripe.js or a terminal would make it (a card never
    /// goes through Ward): the JSON answer.
    package func call(_ method: String, _ path: String, form: [(String, String)] = [], key: String? = "sk_test_wardtests") async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: endpoint + path)!)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if !form.isEmpty {
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(form.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $1)" }.joined(separator: "&").utf8)
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// Pays PaymentIntent `intent` with a test card, as Stripe.js does in the patient's
    /// browser: a PaymentMethod made from the card, attached, then the intent confirmed.
    /// 4000000000000341 attaches but is declined when charged.
    package func pay(_ intent: String, card: String = "4242424242424242") async throws -> [String: Any] {
        let method = try await call("POST", "/v1/payment_methods", form: [("type", "card"), ("card[number]", card), ("card[exp_month]", "12"),
                                                                          ("card[exp_year]", "2034"), ("card[cvc]", "123")])
        guard let methodID = method["id"] as? String else { throw ServerError(message: "no payment method: \(method)") }
        _ = try await call("POST", "/v1/payment_intents/\(intent)", form: [("payment_method", methodID)])
        return try await call("POST", "/v1/payment_intents/\(intent)/confirm")
    }

    /// What to sign: a payload, the time to sign it at, and the secrets (one `v1` each).
    package struct Signing: Sendable {
        package let payload: Data
        package let timestamp: Int
        package let secrets: [String]

        package init(_ payload: Data, timestamp: Int, secrets: [String]) {
            self.payload = payload
            self.timestamp = timestamp
            self.secrets = secrets
        }
    }

    /// The Stripe-Signature headers the `stripe` library makes for `signings`, in order (one
    /// Python process for them all).
    package static func sign(_ signings: [Signing]) async throws -> [String] {
        let request = try JSONSerialization.data(withJSONObject: signings.map {
            ["payload": String(decoding: $0.payload, as: UTF8.self), "timestamp": $0.timestamp, "secrets": $0.secrets] as [String: Any]
        })
        return try await offThePool {
            let process = TestProcess()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", HelperServer.scripts.appendingPathComponent("stripe-sign.py").path]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.runAlone()
            input.fileHandleForWriting.write(request)
            try input.fileHandleForWriting.close()
            let text = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0, let headers = try? JSONSerialization.jsonObject(with: text) as? [String], headers.count == signings.count else {
                throw ServerError(message: "stripe-sign failed: \(String(decoding: text, as: UTF8.self))")
            }
            return headers
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
