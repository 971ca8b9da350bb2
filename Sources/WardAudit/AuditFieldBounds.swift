/// Every field of an audit event has a bound, and holds no text a database cannot store.
///
/// An event records what a request asked for, and a request can ask for anything: a patient id
/// of 3,000 characters once made a PostgreSQL batch fail on an index row larger than a btree
/// page holds, and every later batch of that tenant with it. So the trail never trusts a value:
/// one too long is cut at a character boundary within its bound and marked, and a control
/// character other than tab and line breaks (NUL cannot be stored in PostgreSQL text at all) is
/// replaced by U+FFFD. Values are bounded in UTF-8 bytes, the unit of the index limit.
enum AuditFieldBounds {
    static let identifier = 128
    static let name = 200
    static let label = 64
    static let reason = 1000
    static let userAgent = 256
    static let roles = 32
    static let detailEntries = 32
    static let detailValue = 512

    /// The mark a cut value ends with.
    static let truncationMark = "…[truncated]"

    /// `value` as it may be stored: within `bound` bytes, marked if cut, control characters replaced.
    static func bounded(_ value: String, _ bound: Int) -> String {
        var fits = value.utf8.count <= bound
        if fits, !value.utf8.contains(where: isUnstorable) { return value }
        var clean = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            clean.append(scalar.isASCII && isUnstorable(UInt8(scalar.value)) ? "\u{FFFD}" : scalar)
        }
        var text = String(clean)
        fits = text.utf8.count <= bound
        if fits { return text }
        let room = bound - truncationMark.utf8.count
        var used = 0
        var end = text.startIndex
        for character in text {
            let size = character.utf8.count
            if used + size > room { break }
            used += size
            end = text.index(after: end)
        }
        text = String(text[..<end]) + truncationMark
        return text
    }

    private static func isUnstorable(_ byte: UInt8) -> Bool {
        byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D
    }

    static func bounded(_ value: String?, _ bound: Int) -> String? {
        value.map { bounded($0, bound) }
    }
}

extension AuditRecord {
    /// This record with every field within its bound (`AuditFieldBounds`).
    var bounded: AuditRecord {
        typealias B = AuditFieldBounds
        var record = self
        record.actorID = B.bounded(actorID, B.identifier)
        record.actorName = B.bounded(actorName, B.name)
        record.actorRoles = actorRoles.prefix(B.roles).map { B.bounded($0, B.label) }
        record.action = B.bounded(action, B.label)
        record.resourceType = B.bounded(resourceType, B.label)
        record.resourceID = B.bounded(resourceID, B.identifier)
        record.patientID = B.bounded(patientID, B.identifier)
        record.reason = B.bounded(reason, B.reason)
        record.clientAddress = B.bounded(clientAddress, B.label)
        record.userAgent = B.bounded(userAgent, B.userAgent)
        record.requestID = B.bounded(requestID, B.identifier)
        if !details.isEmpty {
            var kept: [String: String] = [:]
            for key in details.keys.sorted().prefix(B.detailEntries) {
                kept[B.bounded(key, B.label)] = B.bounded(details[key]!, B.detailValue) as String
            }
            record.details = kept
        }
        return record
    }
}
