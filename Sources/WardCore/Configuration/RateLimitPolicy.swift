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

    /// Ward's policies unless configured otherwise. `address`: API requests without
    /// credentials, per client address (the seeds' 100 a minute); `user`: API requests with an
    /// access token, per user (1,000 an hour); `session`: the web app's pages, per signed-in
    /// session (far above what a person clicking and typing makes, so interactive use never
    /// meets it, while a script driving a stolen cookie does); `platform`: the control plane's
    /// API, per administrator; and route classes: `booking` (parking), `export` (audit and
    /// billing exports), `upload` (documents).
    package static let defaults: [RateLimitPolicy] = [
        RateLimitPolicy(name: "address", limit: 100, window: 60), RateLimitPolicy(name: "user", limit: 1_000, window: 3_600),
        RateLimitPolicy(name: "session", limit: 600, window: 60), RateLimitPolicy(name: "platform", limit: 300, window: 60),
        RateLimitPolicy(name: "booking", limit: 100, window: 3_600), RateLimitPolicy(name: "export", limit: 60, window: 3_600),
        RateLimitPolicy(name: "upload", limit: 600, window: 3_600),
    ]

    /// The defaults with the `WARD_RATE_LIMITS` text applied: comma-separated `name=LIMIT/UNIT`
    /// entries replace the policy of that name (or add one), `name=off` removes it.
    package static func configured(_ text: String) -> Result<[RateLimitPolicy], RateLimitPolicyError> {
        parse(text, over: defaults)
    }

    /// The policies of `text` over `base`.
    package static func parse(_ text: String, over base: [RateLimitPolicy] = []) -> Result<[RateLimitPolicy], RateLimitPolicyError> {
        var policies = base
        for entry in text.split(separator: ",") {
            let entry = entry.trimmingCharacters(in: .whitespaces)
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let name = parts.first.map(String.init), name.allSatisfy({ $0.isLetter || $0 == "_" }), !name.isEmpty else {
                return .failure(RateLimitPolicyError(entry: entry))
            }
            if parts[1] == "off" {
                policies.removeAll { $0.name == name }
                continue
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
