import Foundation
import HummingbirdOTP

/// An authenticator app, as far as a test needs one: the code it shows for an enrolled seed.
package enum Authenticator {
    /// The code an authenticator app shows for a base32 seed, `offset` steps from now.
    package static func code(base32 seed: String, offset: Int = 0) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0, value = 0
        var bytes: [UInt8] = []
        for character in seed.uppercased() where character != "=" {
            guard let index = alphabet.firstIndex(of: character) else { continue }
            value = (value << 5) | index
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        let number = TOTP(secret: String(decoding: bytes, as: UTF8.self)).compute(date: Date().addingTimeInterval(TimeInterval(offset * 30)))
        return String(format: "%06d", number)
    }
}
