/// Delivers a rendered message to the next hop: an SMTP relay, or a directory of `.eml` files.
package protocol MailTransport: Sendable {
    /// Hands `message` over for `recipient`; throws `DeliveryFailure` saying whether trying
    /// again may help.
    func deliver(_ message: [UInt8], from sender: String, to recipient: String) async throws
    /// Names the transport in logs and `ward email test`, without secrets.
    var summary: String { get }
}

/// Why a delivery failed, as the next hop said it.
package enum DeliveryFailure: Error, Equatable, CustomStringConvertible {
    /// A 4xx reply, a refused or dropped connection, a timeout: the same message may succeed later.
    case temporary(String)
    /// A 5xx reply: sending again will not help. `recipientRefused` when the server refused
    /// the address itself (a hard bounce), which is then not written to again.
    case permanent(String, recipientRefused: Bool)

    package var description: String {
        switch self {
        case .temporary(let reply): "temporary failure: \(reply)"
        case .permanent(let reply, _): "permanent failure: \(reply)"
        }
    }

    /// What the server replied, as recorded on the message.
    package var reply: String {
        switch self {
        case .temporary(let reply), .permanent(let reply, _): reply
        }
    }
}
