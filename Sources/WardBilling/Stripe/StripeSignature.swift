import Crypto
package import Foundation

/// Stripe's webhook signature scheme: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`,
/// where each `v1` is HMAC-SHA256 of "<t>.<raw body>" under an endpoint's signing secret. An
/// event is genuine when any `v1` matches any secret in force (several during a rotation)
/// and `t` is within the tolerance of now (5 minutes, as Stripe's libraries default to), which
/// bounds how long a captured delivery can be replayed.
package enum StripeSignature {
    package static let tolerance: TimeInterval = 300

    package enum Failure: Error, Equatable {
        case malformed
        case noMatch
        case outsideTolerance
    }

    package static func verify(header: String?, payload: [UInt8], secrets: [String], now: Date, tolerance: TimeInterval = tolerance) throws {
        guard let header else { throw Failure.malformed }
        var timestamp: Int?
        var signatures: [[UInt8]] = []
        for item in header.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "t" { timestamp = Int(parts[1]) }
            if parts[0] == "v1", let bytes = hexBytes(parts[1]), bytes.count == 32 { signatures.append(bytes) }
        }
        guard let timestamp, !signatures.isEmpty else { throw Failure.malformed }
        let signed = Array("\(timestamp).".utf8) + payload
        // Each candidate is compared in constant time (swift-crypto's own comparison).
        let matched = secrets.contains { secret in
            let key = SymmetricKey(data: Data(secret.utf8))
            return signatures.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }
        }
        guard matched else { throw Failure.noMatch }
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { throw Failure.outsideTolerance }
    }

    /// The header Stripe would send for `payload` at `timestamp` (for tools and tests).
    package static func header(payload: [UInt8], secret: String, timestamp: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + payload, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=\(mac.map { String(format: "%02x", $0) }.joined())"
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
