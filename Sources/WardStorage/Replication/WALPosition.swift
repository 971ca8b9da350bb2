/// A position in PostgreSQL's write-ahead log (a `pg_lsn`, written `16/B374D848`): how far a
/// primary has written, or a replica replayed. Positions only grow, so a replica that has
/// replayed up to a commit's position holds that commit.
package struct WALPosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    package let value: UInt64

    package init(_ value: UInt64) {
        self.value = value
    }

    /// Parses PostgreSQL's text form (two hexadecimal halves); nil for anything else.
    package init?(_ text: some StringProtocol) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, (1...8).contains(halves[0].count), (1...8).contains(halves[1].count),
              let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16) else { return nil }
        value = high << 32 | low
    }

    package var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    package static func < (lhs: WALPosition, rhs: WALPosition) -> Bool { lhs.value < rhs.value }

    /// Bytes of log between two positions (zero when `later` is not later).
    package static func bytes(from earlier: WALPosition, to later: WALPosition) -> UInt64 {
        later.value > earlier.value ? later.value - earlier.value : 0
    }
}
