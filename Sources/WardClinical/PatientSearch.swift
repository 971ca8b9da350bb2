import Foundation

/// Typo-tolerant name matching that both databases answer the same way: every name token is
/// indexed with all its one-deletion variants, and a query token looks up itself and its own
/// deletions. Two tokens one edit apart (insertion, deletion, substitution or adjacent
/// transposition) always share a variant; candidates are then confirmed and ranked here.
package enum PatientSearch {
    /// Lower-cased, accent-folded tokens of letters and digits.
    package static func tokens(_ text: String) -> [String] {
        // Most names are ASCII: lower-cased and split byte by byte. A search scores every
        // candidate row's names, so this runs hundreds of times per query.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var tokens: [String] = []
            var token: [UInt8] = []
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): token.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): token.append(byte | 0x20)
                default:
                    if !token.isEmpty { tokens.append(String(decoding: token, as: UTF8.self)); token.removeAll(keepingCapacity: true) }
                }
            }
            if !token.isEmpty { tokens.append(String(decoding: token, as: UTF8.self)) }
            return tokens
        }
        return text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: posix)
            .lowercased()
            .split { !$0.isLetter && !$0.isNumber }
            .map(String.init)
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// A token and its one-deletion variants; tokens shorter than 3 or longer than 40 (no name
    /// is) match only exactly, which also bounds the lookups one query can cause.
    package static func variants(_ token: String) -> Set<String> {
        var variants: Set<String> = [token]
        let characters = Array(token)
        guard (3...40).contains(characters.count) else { return variants }
        for index in characters.indices {
            var shorter = characters
            shorter.remove(at: index)
            variants.insert(String(shorter))
        }
        return variants
    }

    /// Every search term to index for a patient's names.
    package static func terms(givenName: String, familyName: String) -> Set<String> {
        Set(tokens(givenName + " " + familyName).flatMap(variants))
    }

    /// Optimal-string-alignment distance, stopping early above `limit`.
    package static func distance(_ a: String, _ b: String, limit: Int = 1) -> Int {
        // Tokens are folded letters and digits: compared scalar by scalar (cheaper than by
        // grapheme, and the same for them).
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }

    /// How well a patient's names match the query tokens: nil when some query token matches
    /// no name token within one edit; lower is better (0 = every token exact).
    package static func score(query: [String], givenName: String, familyName: String) -> Int? {
        let names = tokens(givenName + " " + familyName)
        var total = 0
        for token in query {
            let best = names.map { name -> Int in
                if name == token { return 0 }
                if name.hasPrefix(token), token.count >= 3 { return 1 }
                return distance(token, name) <= 1 && token.count >= 3 ? 2 : 9
            }.min() ?? 9
            if best == 9 { return nil }
            total += best
        }
        return total
    }
}
