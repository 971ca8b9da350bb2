package import Foundation

/// The typeface a document's text is set in: a TrueType font, embedded as a subset of the
/// glyphs the document uses, so any script the font covers renders and can be searched and
/// copied; or, when no font file is available, the standard Helvetica every reader has, which
/// shows Latin-1 only (other characters become "?").
package enum PDFTypeface: Sendable {
    case embedded(TrueTypeFont)
    case helvetica

    /// The first of `paths` that reads as a TrueType font, or Helvetica.
    package static func load(firstOf paths: [String]) -> (typeface: PDFTypeface, problems: [String]) {
        var problems: [String] = []
        for path in paths where FileManager.default.fileExists(atPath: path) {
            do {
                return (.embedded(try TrueTypeFont(contentsOf: URL(fileURLWithPath: path))), problems)
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        return (.helvetica, problems)
    }

    /// Width of `text` at `size` points.
    package func width(of text: String, size: Double) -> Double {
        switch self {
        case .embedded(let font):
            let units = text.unicodeScalars.reduce(0) { $0 + font.advance(of: font.glyph(for: $1)) }
            return Double(units) * size / Double(font.unitsPerEm)
        case .helvetica:
            return text.unicodeScalars.reduce(0) { $0 + HelveticaMetrics.width(of: $1) } * size / 1000
        }
    }

    /// Whether every character of `text` renders as itself.
    package func covers(_ text: String) -> Bool {
        switch self {
        case .embedded(let font): text.unicodeScalars.allSatisfy { font.covers($0) || $0.properties.isWhitespace }
        case .helvetica: text.unicodeScalars.allSatisfy { $0.value < 0x100 }
        }
    }
}

/// A colour as red, green and blue in 0...1.
package struct PDFColor: Sendable, Equatable {
    package var red: Double, green: Double, blue: Double
    package init(_ red: Double, _ green: Double, _ blue: Double) { self.red = red; self.green = green; self.blue = blue }
    package static let black = PDFColor(0, 0, 0)
    package static let grey = PDFColor(0.42, 0.45, 0.5)
    package static let rule = PDFColor(0.78, 0.8, 0.84)
    package static let accent = PDFColor(0.05, 0.36, 0.55)
    package static let shade = PDFColor(0.93, 0.95, 0.97)
}

/// Writes a PDF 1.7 file: pages of text, lines and filled rectangles. Coordinates are points
/// from the page's lower-left corner. Output is deterministic for the same input and date, so
/// a document generated twice is byte-identical.
package final class PDFWriter {
    package static let a4 = (width: 595.28, height: 841.89)

    private enum Mark {
        case text(String, x: Double, y: Double, size: Double, bold: Bool, color: PDFColor)
        case line(x1: Double, y1: Double, x2: Double, y2: Double, width: Double, color: PDFColor)
        case rectangle(x: Double, y: Double, width: Double, height: Double, color: PDFColor)
    }

    package let typeface: PDFTypeface
    private let title: String
    private let created: Date
    private var pages: [[Mark]] = []
    private var current = 0

    package init(typeface: PDFTypeface, title: String, created: Date) {
        self.typeface = typeface
        self.title = title
        self.created = created
    }

    package var pageCount: Int { pages.count }

    /// Starts a new A4 page; later marks go on it.
    package func beginPage() {
        pages.append([])
        current = pages.count - 1
    }

    /// Runs `body` with marks going to page `index` (from 0), then returns to the last page.
    package func onPage(_ index: Int, _ body: () -> Void) {
        current = index
        body()
        current = pages.count - 1
    }

    package func text(_ text: String, x: Double, y: Double, size: Double, bold: Bool = false, color: PDFColor = .black) {
        if pages.isEmpty { beginPage() }
        // One form per character: a decomposed "é" from a form or an API client becomes the
        // precomposed letter the font has a glyph for.
        pages[current].append(.text(text.precomposedStringWithCanonicalMapping, x: x, y: y, size: size, bold: bold, color: color))
    }

    package func line(from start: (Double, Double), to end: (Double, Double), width: Double = 0.6, color: PDFColor = .rule) {
        if pages.isEmpty { beginPage() }
        pages[current].append(.line(x1: start.0, y1: start.1, x2: end.0, y2: end.1, width: width, color: color))
    }

    package func rectangle(x: Double, y: Double, width: Double, height: Double, color: PDFColor) {
        if pages.isEmpty { beginPage() }
        pages[current].append(.rectangle(x: x, y: y, width: width, height: height, color: color))
    }

    package func width(of text: String, size: Double) -> Double {
        typeface.width(of: text.precomposedStringWithCanonicalMapping, size: size)
    }

    // MARK: Rendering

    /// The finished file.
    package func render() throws -> Data {
        if pages.isEmpty { beginPage() }
        var file = PDFFile()
        let catalog = file.reserve(), pageTree = file.reserve(), info = file.reserve()
        let font = try writeFont(into: &file)

        var pageObjects: [Int] = []
        for marks in pages {
            let content = file.add(stream: Array(draw(marks, font: font).utf8), dictionary: "")
            let page = file.add("""
                << /Type /Page /Parent \(pageTree) 0 R /MediaBox [0 0 \(Self.number(Self.a4.width)) \(Self.number(Self.a4.height))] \
                /Resources << /Font << /F1 \(font.object) 0 R >> >> /Contents \(content) 0 R >>
                """)
            pageObjects.append(page)
        }
        file.set(pageTree, "<< /Type /Pages /Kids [\(pageObjects.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pageObjects.count) >>")
        file.set(catalog, "<< /Type /Catalog /Pages \(pageTree) 0 R >>")
        file.set(info, "<< /Title \(Self.textString(title)) /Producer (Ward) /CreationDate (\(Self.date(created))) >>")
        return file.finish(root: catalog, info: info)
    }

    /// The font object and how to write a run of text in it.
    private struct WrittenFont {
        let object: Int
        let encode: (String) -> String
    }

    private func writeFont(into file: inout PDFFile) throws -> WrittenFont {
        switch typeface {
        case .helvetica:
            let object = file.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
            return WrittenFont(object: object) { text in
                "(" + text.unicodeScalars.map { scalar -> String in
                    let byte = scalar.value < 0x100 && scalar.value >= 0x20 ? UInt8(scalar.value) : UInt8(ascii: "?")
                    switch byte {
                    case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"): return "\\" + String(UnicodeScalar(byte))
                    case 0x20..<0x7F: return String(UnicodeScalar(byte))
                    default: return String(format: "\\%03o", byte)
                    }
                }.joined() + ")"
            }
        case .embedded(let font):
            var used: Set<UInt16> = []
            var characters: [UInt16: Unicode.Scalar] = [:]
            for marks in pages {
                for case .text(let text, _, _, _, _, _) in marks {
                    for scalar in text.unicodeScalars {
                        let glyph = font.glyph(for: scalar)
                        used.insert(glyph)
                        if characters[glyph] == nil, glyph != 0 { characters[glyph] = scalar }
                    }
                }
            }
            let (subset, numbering) = try font.subset(used)
            // A subset is named with a six-letter tag derived from what it holds.
            let tag = String(Self.subsetTag(numbering.keys.sorted()))
            let name = "\(tag)+\(font.postScriptName)"
            let scale = 1000 / Double(font.unitsPerEm)
            let widths = numbering.sorted { $0.value < $1.value }.map { Self.number(Double(font.advance(of: $0.key)) * scale) }

            let fontFile = file.add(stream: subset, dictionary: "/Length1 \(subset.count)")
            let descriptor = file.add("""
                << /Type /FontDescriptor /FontName /\(name) /Flags 32 \
                /FontBBox [\(Int(Double(font.boundingBox.0) * scale)) \(Int(Double(font.boundingBox.1) * scale)) \(Int(Double(font.boundingBox.2) * scale)) \(Int(Double(font.boundingBox.3) * scale))] \
                /ItalicAngle \(Self.number(font.italicAngle)) /Ascent \(Int(Double(font.ascender) * scale)) /Descent \(Int(Double(font.descender) * scale)) \
                /CapHeight \(Int(Double(font.capHeight) * scale)) /StemV 80 /FontFile2 \(fontFile) 0 R >>
                """)
            let descendant = file.add("""
                << /Type /Font /Subtype /CIDFontType2 /BaseFont /\(name) \
                /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
                /FontDescriptor \(descriptor) 0 R /W [0 [\(widths.joined(separator: " "))]] /CIDToGIDMap /Identity >>
                """)
            var unicode: [(UInt16, Unicode.Scalar)] = []
            for (glyph, scalar) in characters { if let new = numbering[glyph] { unicode.append((new, scalar)) } }
            let toUnicode = file.add(stream: Array(Self.toUnicodeMap(unicode.sorted { $0.0 < $1.0 }).utf8), dictionary: "")
            let object = file.add("""
                << /Type /Font /Subtype /Type0 /BaseFont /\(name) /Encoding /Identity-H \
                /DescendantFonts [\(descendant) 0 R] /ToUnicode \(toUnicode) 0 R >>
                """)
            return WrittenFont(object: object) { text in
                "<" + text.unicodeScalars.map { String(format: "%04X", numbering[font.glyph(for: $0)] ?? 0) }.joined() + ">"
            }
        }
    }

    private func draw(_ marks: [Mark], font: WrittenFont) -> String {
        var out = ""
        for mark in marks {
            switch mark {
            case .text(let text, let x, let y, let size, let bold, let color):
                // Bold is the regular face filled and outlined: one embedded font serves both.
                let mode = bold ? "2 Tr \(Self.number(size * 0.035)) w \(Self.rgb(color)) RG" : "0 Tr"
                out += "BT \(Self.rgb(color)) rg \(mode) /F1 \(Self.number(size)) Tf \(Self.number(x)) \(Self.number(y)) Td \(font.encode(text)) Tj ET\n"
            case .line(let x1, let y1, let x2, let y2, let width, let color):
                out += "\(Self.rgb(color)) RG \(Self.number(width)) w \(Self.number(x1)) \(Self.number(y1)) m \(Self.number(x2)) \(Self.number(y2)) l S\n"
            case .rectangle(let x, let y, let width, let height, let color):
                out += "\(Self.rgb(color)) rg \(Self.number(x)) \(Self.number(y)) \(Self.number(width)) \(Self.number(height)) re f\n"
            }
        }
        return out
    }

    // MARK: Formatting

    static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.2f", rounded)
    }

    private static func rgb(_ color: PDFColor) -> String {
        "\(number(color.red)) \(number(color.green)) \(number(color.blue))"
    }

    /// A text string in UTF-16 with its byte-order mark, as the document information needs.
    private static func textString(_ text: String) -> String {
        "<FEFF" + text.utf16.map { String(format: "%04X", $0) }.joined() + ">"
    }

    private static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return "D:" + formatter.string(from: date) + "Z"
    }

    private static func subsetTag(_ glyphs: [UInt16]) -> [Character] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for glyph in glyphs { hash = (hash ^ UInt64(glyph)) &* 0x100_0000_01b3 }
        return (0..<6).map { index in Character(UnicodeScalar(UInt8(65 + (hash >> (UInt64(index) * 5)) % 26))) }
    }

    /// The map a reader uses to turn glyphs back into text (search, copy, `pdftotext`).
    private static func toUnicodeMap(_ pairs: [(UInt16, Unicode.Scalar)]) -> String {
        var map = """
            /CIDInit /ProcSet findresource begin
            12 dict begin
            begincmap
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
            /CMapName /Adobe-Identity-UCS def
            /CMapType 2 def
            1 begincodespacerange
            <0000> <FFFF>
            endcodespacerange

            """
        for start in stride(from: 0, to: pairs.count, by: 100) {
            let chunk = pairs[start..<min(start + 100, pairs.count)]
            map += "\(chunk.count) beginbfchar\n"
            for (glyph, scalar) in chunk {
                let utf16 = String(Character(scalar)).utf16.map { String(format: "%04X", $0) }.joined()
                map += String(format: "<%04X> <", glyph) + utf16 + ">\n"
            }
            map += "endbfchar\n"
        }
        map += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        return map
    }
}

/// The objects of a PDF file and its cross-reference table.
private struct PDFFile {
    private var objects: [[UInt8]?] = []

    mutating func reserve() -> Int {
        objects.append(nil)
        return objects.count
    }

    mutating func set(_ number: Int, _ dictionary: String) {
        objects[number - 1] = Array(dictionary.utf8)
    }

    mutating func add(_ dictionary: String) -> Int {
        objects.append(Array(dictionary.utf8))
        return objects.count
    }

    mutating func add(stream: [UInt8], dictionary extra: String) -> Int {
        var bytes = Array("<< /Length \(stream.count)\(extra.isEmpty ? "" : " " + extra) >>\nstream\n".utf8)
        bytes += stream
        bytes += Array("\nendstream".utf8)
        objects.append(bytes)
        return objects.count
    }

    func finish(root: Int, info: Int) -> Data {
        // The second line's high bytes tell transfer tools the file is binary.
        var out: [UInt8] = Array("%PDF-1.7\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(index + 1) 0 obj\n".utf8)
            out += object ?? Array("null".utf8)
            out += Array("\nendobj\n".utf8)
        }
        let table = out.count
        var xref = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { xref += String(format: "%010d 00000 n \n", offset) }
        xref += "trailer\n<< /Size \(objects.count + 1) /Root \(root) 0 R /Info \(info) 0 R >>\nstartxref\n\(table)\n%%EOF\n"
        out += Array(xref.utf8)
        return Data(out)
    }
}
