/// Request ids: an incoming `X-Request-ID` is kept when it is well formed, so a trace can
/// cross a proxy; anything else is replaced, so a client cannot inject text into logs.
package enum RequestID {
    /// Whether a client-supplied request id may be used: 1 to 128 of `[A-Za-z0-9._:-]`.
    package static func isWellFormed(_ value: Substring) -> Bool {
        guard (1...128).contains(value.utf8.count) else { return false }
        return value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: ":"):
                true
            default: false
            }
        }
    }

    /// A new request id (a UUIDv7, so ids sort by arrival).
    package static func make() -> String {
        UUIDv7.id()
    }
}
