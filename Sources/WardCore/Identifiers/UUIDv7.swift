package import Foundation
import Synchronization

/// RFC 9562 version 7 identifiers: a 48-bit Unix millisecond timestamp, a 12-bit counter and
/// random bits. Ids made in one process are strictly increasing (the counter orders ids of the
/// same millisecond, RFC 9562 §6.2 method 1), so they sort by creation time and index well.
package enum UUIDv7 {
    private static let last = Mutex<(milliseconds: UInt64, counter: UInt16)>((0, 0))

    /// A new identifier for the current time, as the lower-case text Ward stores ids in.
    package static func id(at date: Date = Date()) -> String {
        make(at: date).lowercasedText
    }

    /// A new identifier for the current time.
    package static func make(at date: Date = Date()) -> UUID {
        let wall = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let (milliseconds, counter) = last.withLock { last -> (UInt64, UInt16) in
            // An id for a moment well in the past (an import, a test) stands outside the sequence.
            if wall + 1000 < last.milliseconds { return (wall, UInt16.random(in: 0...0xFFF)) }
            if wall > last.milliseconds {
                // Likewise a moment well ahead of the system's clock (a clock a test moved on):
                // taken into the sequence, it would hold everyone's ids back until it came.
                if wall > UInt64(max(0, Date().timeIntervalSince1970 * 1000)) + 1000 { return (wall, UInt16.random(in: 0...0xFFF)) }
                // A fresh millisecond starts the counter low, leaving room to count up in it.
                last = (wall, UInt16.random(in: 0..<0x400))
            } else if last.counter < 0xFFF {
                last.counter += 1
            } else {
                last = (last.milliseconds + 1, UInt16.random(in: 0..<0x400))
            }
            return last
        }
        // Timestamp, version and counter fill the first eight bytes; one draw from the system
        // generator (a getrandom call) fills the rest, less the variant's two bits.
        var generator = SystemRandomNumberGenerator()
        let high = milliseconds << 16 | 0x7000 | UInt64(counter & 0xFFF)
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return UUID(uuid: uuid)
    }
}

extension UUID {
    /// The canonical text in lower case, `8-4-4-4-12` hex digits. Foundation's `uuidString`
    /// formats with `snprintf` and in upper case; this runs for every request and audit event.
    package var lowercasedText: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    text[position] = Hex.ascii(byte >> 4)
                    text[position + 1] = Hex.ascii(byte & 0xF)
                    position += 2
                }
                return position
            }
        }
    }
}
