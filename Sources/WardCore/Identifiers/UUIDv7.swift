package import Foundation
import Synchronization

/// RFC 9562 version 7 identifiers: a 48-bit Unix millisecond timestamp, a 12-bit counter and
/// random bits. Ids made in one process are strictly increasing (the counter orders ids of the
/// same millisecond, RFC 9562 §6.2 method 1), so they sort by creation time and index well.
package enum UUIDv7 {
    private static let last = Mutex<(milliseconds: UInt64, counter: UInt16)>((0, 0))

    /// A new identifier for the current time.
    package static func make(at date: Date = Date()) -> UUID {
        let wall = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let (milliseconds, counter) = last.withLock { last -> (UInt64, UInt16) in
            // An id for a moment well in the past (an import, a test) stands outside the sequence.
            if wall + 1000 < last.milliseconds { return (wall, UInt16.random(in: 0...0xFFF)) }
            if wall > last.milliseconds {
                // A fresh millisecond starts the counter low, leaving room to count up in it.
                last = (wall, UInt16.random(in: 0..<0x400))
            } else if last.counter < 0xFFF {
                last.counter += 1
            } else {
                last = (last.milliseconds + 1, UInt16.random(in: 0..<0x400))
            }
            return last
        }
        // Two draws from the system generator, not sixteen: each draw is a getrandom call.
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64, low = generator.next() as UInt64
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * $0)) }
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        bytes[6] = 0x70 | UInt8(counter >> 8)  // version 7, counter high bits
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}
