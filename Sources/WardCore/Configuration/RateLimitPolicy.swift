/// A named limit on how often one caller may use a class of routes: `limit` requests per
/// `window`, with bursts of up to `limit` after a quiet window. Configured as
/// `name=LIMIT/UNIT` (`booking=100/h`), units `s`, `min`, `h` and `d`.
package struct RateLimitPolicy: Sendable, Hashable {
    package var name: String
    package var limit: Int
    /// The window in seconds.
    package var window: Int

    package init(name: String, limit: Int, window: Int) {
        self.name = name
        self.limit = limit
        self.window = window
    }

    /// The policies of the `WARD_RATE_LIMITS` text: comma-separated `name=LIMIT/UNIT`.
    package static func parse(_ text: String) -> Result<[RateLimitPolicy], RateLimitPolicyError> {
        var policies: [RateLimitPolicy] = []
        for entry in text.split(separator: ",") {
            let entry = entry.trimmingCharacters(in: .whitespaces)
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let name = parts.first.map(String.init), name.allSatisfy({ $0.isLetter || $0 == "_" }), !name.isEmpty else {
                return .failure(RateLimitPolicyError(entry: entry))
            }
            let quota = parts[1].split(separator: "/")
            let seconds: [Substring: Int] = ["s": 1, "min": 60, "h": 3_600, "d": 86_400]
            guard quota.count == 2, let limit = Int(quota[0]), (1...10_000_000).contains(limit), let window = seconds[quota[1]] else {
                return .failure(RateLimitPolicyError(entry: entry))
            }
            policies.removeAll { $0.name == name }
            policies.append(RateLimitPolicy(name: name, limit: limit, window: window))
        }
        return .success(policies)
    }

    /// The policy as `RateLimit-Policy` names it (draft-ietf-httpapi-ratelimit-headers).
    package var headerValue: String { "\"\(name)\";q=\(limit);w=\(window)" }
}

/// A `WARD_RATE_LIMITS` entry that is not `name=LIMIT/UNIT`.
package struct RateLimitPolicyError: Error, Sendable {
    package let entry: String
}
