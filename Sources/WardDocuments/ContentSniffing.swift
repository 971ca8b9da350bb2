/// The kinds of file a patient's record accepts, recognised by their first bytes: the type a
/// client declares must be the type the content is.
package enum DocumentMediaType: String, CaseIterable, Sendable {
    case pdf = "application/pdf"
    case png = "image/png"
    case jpeg = "image/jpeg"
    case tiff = "image/tiff"
    case dicom = "application/dicom"
    case text = "text/plain"

    /// Bytes of the head the recognition looks at (DICOM's marker sits after a 128-byte preamble).
    package static let sniffLength = 512

    /// The type `head` (the first bytes of the content, all of it when shorter) shows, if any.
    package static func recognise(_ head: [UInt8]) -> DocumentMediaType? {
        func starts(_ prefix: [UInt8]) -> Bool { head.count >= prefix.count && Array(head.prefix(prefix.count)) == prefix }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if head.count >= 132, Array(head[128..<132]) == Array("DICM".utf8) { return .dicom }
        if isText(head) { return .text }
        return nil
    }

    /// UTF-8 without control characters other than tab, line feed, form feed and carriage
    /// return; a character cut off at the end of the head is allowed.
    static func isText(_ head: [UInt8]) -> Bool {
        guard !head.isEmpty else { return false }
        var index = 0
        while index < head.count {
            let byte = head[index]
            if byte < 0x80 {
                if byte < 0x20, ![0x09, 0x0A, 0x0C, 0x0D].contains(byte) { return false }
                if byte == 0x7F { return false }
                index += 1
                continue
            }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0
            guard length > 0, byte < 0xF5 else { return false }
            if index + length > head.count { return head.count == sniffLength }
            guard head[(index + 1)..<(index + length)].allSatisfy({ $0 & 0xC0 == 0x80 }) else { return false }
            index += length
        }
        return true
    }

    /// The type named by a `Content-Type` header (parameters ignored).
    package init?(header: String) {
        let base = header.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let aliases = ["image/jpg": "image/jpeg", "application/dicom+dcm": "application/dicom"]
        self.init(rawValue: aliases[base] ?? base)
    }

    /// The file extension downloads are named with.
    package var fileExtension: String {
        switch self {
        case .pdf: "pdf"
        case .png: "png"
        case .jpeg: "jpg"
        case .tiff: "tiff"
        case .dicom: "dcm"
        case .text: "txt"
        }
    }
}
