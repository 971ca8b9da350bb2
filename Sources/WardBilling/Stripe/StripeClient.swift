import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The few calls Ward makes to Stripe's HTTP API: form-encoded requests with the clinic's
/// secret key, each with an idempotency key derived from what it is for, so a retry after a
/// lost answer never charges or refunds twice. Card data never passes through Ward: a
/// PaymentIntent's client secret lets Stripe.js or a terminal collect the card with Stripe.
struct StripeClient: Sendable {
    let base: String
    let client: HTTPClient

    init(base: String, client: HTTPClient = .shared) {
        self.base = base
        self.client = client
    }

    /// A Stripe object as JSON.
    struct Object: @unchecked Sendable {
        let fields: [String: Any]
        var id: String { fields["id"] as? String ?? "" }
        func string(_ key: String) -> String? { fields[key] as? String }
        func integer(_ key: String) -> Int64? { (fields[key] as? NSNumber)?.int64Value }
    }

    /// Creates a PaymentIntent for card payment of `amount` minor units.
    /// What the payment is for travels in its metadata (Stripe shows it on the payment).
    func createPaymentIntent(key: String, amount: Int64, currency: String, metadata: [String: String], idempotencyKey: String) async throws -> Object {
        var form: [(String, String)] = [("amount", String(amount)), ("currency", currency.lowercased()), ("payment_method_types[]", "card")]
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) { form.append(("metadata[\(name)]", value)) }
        return try await send(.POST, "/v1/payment_intents", key: key, form: form, idempotencyKey: idempotencyKey)
    }

    /// Cancels a PaymentIntent nobody has paid yet.
    func cancelPaymentIntent(key: String, id: String) async throws -> Object {
        try await send(.POST, "/v1/payment_intents/\(id)/cancel", key: key, form: [], idempotencyKey: "ward-cancel-\(id)")
    }

    func retrievePaymentIntent(key: String, id: String) async throws -> Object {
        try await send(.GET, "/v1/payment_intents/\(id)", key: key, form: [], idempotencyKey: nil)
    }

    /// Refunds `amount` of a PaymentIntent's charge.
    func refund(key: String, paymentIntent: String, amount: Int64, metadata: [String: String], idempotencyKey: String) async throws -> Object {
        var form: [(String, String)] = [("payment_intent", paymentIntent), ("amount", String(amount))]
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) { form.append(("metadata[\(name)]", value)) }
        return try await send(.POST, "/v1/refunds", key: key, form: form, idempotencyKey: idempotencyKey)
    }

    private func send(_ method: HTTPMethod, _ path: String, key: String, form: [(String, String)], idempotencyKey: String?) async throws -> Object {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Stripe-Version", value: "2024-06-20")
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if !form.isEmpty {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            // Well inside the request's own deadline: an unreachable Stripe is a prompt 503 with
            // Retry-After, not a request timing out.
            response = try await client.execute(request, timeout: .seconds(10))
            body = try await response.body.collect(upTo: 1024 * 1024)
        } catch {
            throw BillingError.stripeUnavailable
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        switch response.status.code {
        case 200..<300:
            return Object(fields: json)
        case 429, 500...:
            throw BillingError.stripeUnavailable
        default:
            var message = (json["error"] as? [String: Any])?["message"] as? String ?? "HTTP \(response.status.code)"
            if !message.hasSuffix(".") { message += "." }
            throw BillingError.stripeRefused(String(message.prefix(300)))
        }
    }

    /// `application/x-www-form-urlencoded` as Stripe reads it (brackets kept in names).
    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        var names = allowed
        names.insert(charactersIn: "[]")
        return form.map { "\($0.addingPercentEncoding(withAllowedCharacters: names) ?? $0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $1)" }
            .joined(separator: "&")
    }
}
