/// Host names and browser origins as the edge compares them.
package enum HostRules {
    /// Whether `pattern` is a host name, or `*.` and a domain for its subdomains.
    package static func isPattern(_ pattern: String) -> Bool {
        let name = pattern.hasPrefix("*.") ? String(pattern.dropFirst(2)) : pattern
        return isHostName(name)
    }

    /// Letters, digits, hyphens and dots, as DNS names and IP addresses are written.
    static func isHostName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253 && !name.hasPrefix(".") && !name.hasSuffix(".")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    /// Whether `host` (lower-case, no port) matches one of `patterns`.
    package static func matches(_ host: String, _ patterns: [String]) -> Bool {
        patterns.contains { pattern in
            if pattern.hasPrefix("*.") { return host.hasSuffix(pattern.dropFirst(1)) && host.count > pattern.count - 1 }
            return host == pattern
        }
    }

    /// The host of a `Host` header or authority, lower-cased, without its port (IPv6 in brackets kept).
    package static func host(ofAuthority authority: String) -> String {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") { return String(lowered.prefix { $0 != "]" }) + "]" }
        return String(lowered.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// `text` as a serialised origin (RFC 6454: scheme, host, port if not the default, lower-case),
    /// or nil when it is not an http(s) origin or carries a path, query, user or wildcard.
    package static func origin(_ text: String) -> String? {
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") { scheme = "https" } else if lowered.hasPrefix("http://") { scheme = "http" } else { return nil }
        let authority = String(lowered.dropFirst(scheme.count + 3))
        guard !authority.isEmpty, !authority.contains(where: { "/?#@*".contains($0) }) else { return nil }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), isHostName(String(parts[0])) else { return nil }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65_535).contains(port) else { return nil }
            if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return "\(scheme)://\(parts[0])" }
        }
        return "\(scheme)://\(authority)"
    }
}
