package import Foundation

/// A TrueType font read from its file: what a PDF needs to place text in it (glyphs for
/// characters, advance widths, vertical metrics) and to embed only the glyphs a document uses.
///
/// Only glyph-outline (`glyf`) fonts are read; CFF-based OpenType is refused. Characters map to
/// glyphs one to one through the font's Unicode `cmap`: no shaping (ligatures, Indic conjuncts,
/// reordered vowel signs), so Devanagari shows its letters in logical order, readable and
/// searchable, but not typeset as a script-aware engine would.
package struct TrueTypeFont: Sendable {
    package enum ReadError: Error, CustomStringConvertible {
        case malformed(String)
        case unsupported(String)

        package var description: String {
            switch self {
            case .malformed(let what): "malformed TrueType font: \(what)"
            case .unsupported(let what): "unsupported font: \(what)"
            }
        }
    }

    /// The font's name as the PDF names it (its PostScript name, or the file's).
    package let postScriptName: String
    package let unitsPerEm: Int
    package let ascender: Int
    package let descender: Int
    package let capHeight: Int
    /// xMin, yMin, xMax, yMax in font units.
    package let boundingBox: (Int, Int, Int, Int)
    package let italicAngle: Double

    private let bytes: [UInt8]
    private let tables: [String: Range<Int>]
    private let glyphCount: Int
    private let longOffsets: Bool
    private let advances: [UInt16]
    private let characterMap: [UInt32: UInt16]

    package init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](try Data(contentsOf: url)), fallbackName: url.deletingPathExtension().lastPathComponent)
    }

    package init(bytes: [UInt8], fallbackName: String = "Font") throws {
        self.bytes = bytes
        let reader = ByteReader(bytes)
        let version = try reader.u32(0)
        guard version == 0x0001_0000 || version == 0x7472_7565 else {
            throw ReadError.unsupported("not a TrueType outline font (CFF-based OpenType is not read)")
        }
        var tables: [String: Range<Int>] = [:]
        for index in 0..<Int(try reader.u16(4)) {
            let entry = 12 + 16 * index
            let tag = String(decoding: try reader.slice(entry, 4), as: UTF8.self)
            let offset = Int(try reader.u32(entry + 8)), length = Int(try reader.u32(entry + 12))
            guard offset + length <= bytes.count else { throw ReadError.malformed("table \(tag) runs past the file") }
            tables[tag] = offset..<(offset + length)
        }
        for required in ["head", "hhea", "hmtx", "maxp", "cmap", "loca", "glyf"] where tables[required] == nil {
            throw ReadError.malformed("no \(required) table")
        }
        self.tables = tables

        let head = tables["head"]!.lowerBound
        unitsPerEm = Int(try reader.u16(head + 18))
        boundingBox = (Int(try reader.i16(head + 36)), Int(try reader.i16(head + 38)), Int(try reader.i16(head + 40)), Int(try reader.i16(head + 42)))
        longOffsets = try reader.i16(head + 50) == 1
        let hhea = tables["hhea"]!.lowerBound
        ascender = Int(try reader.i16(hhea + 4))
        descender = Int(try reader.i16(hhea + 6))
        let metricCount = Int(try reader.u16(hhea + 34))
        glyphCount = Int(try reader.u16(tables["maxp"]!.lowerBound + 4))
        var capHeight = ascender
        if let os2 = tables["OS/2"], os2.count >= 90, try reader.u16(os2.lowerBound) >= 2 {
            capHeight = Int(try reader.i16(os2.lowerBound + 88))
        }
        self.capHeight = capHeight
        if let post = tables["post"] {
            italicAngle = Double(try reader.i32(post.lowerBound + 4)) / 65536
        } else {
            italicAngle = 0
        }

        let hmtx = tables["hmtx"]!.lowerBound
        var advances = [UInt16](repeating: 0, count: glyphCount)
        var last: UInt16 = 0
        for glyph in 0..<glyphCount {
            if glyph < metricCount { last = try reader.u16(hmtx + 4 * glyph) }
            advances[glyph] = last
        }
        self.advances = advances
        characterMap = try Self.readCharacterMap(reader, table: tables["cmap"]!)
        postScriptName = (try? Self.readPostScriptName(reader, table: tables["name"])) ?? fallbackName
    }

    /// The glyph that draws `scalar` (0, the "missing" glyph, when the font has none).
    package func glyph(for scalar: Unicode.Scalar) -> UInt16 {
        characterMap[scalar.value] ?? 0
    }

    /// Whether the font draws `scalar`.
    package func covers(_ scalar: Unicode.Scalar) -> Bool {
        characterMap[scalar.value] != nil
    }

    /// A glyph's advance width in font units.
    package func advance(of glyph: UInt16) -> Int {
        Int(glyph) < advances.count ? Int(advances[Int(glyph)]) : 0
    }

    // MARK: Subsetting

    /// A font file holding only `glyphs` (and the glyphs their composites are built from),
    /// renumbered from 0 (the missing glyph is always first): the file to embed, and each
    /// original glyph's number in it.
    package func subset(_ glyphs: Set<UInt16>) throws -> (file: [UInt8], numbering: [UInt16: UInt16]) {
        let reader = ByteReader(bytes)
        var kept = Set(glyphs.filter { Int($0) < glyphCount })
        kept.insert(0)
        // Composite glyphs draw other glyphs: keep those too, transitively.
        var pending = Array(kept)
        while let glyph = pending.popLast() {
            for component in try components(of: glyph, reader) where kept.insert(component).inserted {
                pending.append(component)
            }
        }
        let order = kept.sorted()
        var numbering: [UInt16: UInt16] = [:]
        for (index, glyph) in order.enumerated() { numbering[glyph] = UInt16(index) }

        var glyf: [UInt8] = [], loca: [UInt8] = [], hmtx: [UInt8] = []
        for glyph in order {
            loca.appendU32(UInt32(glyf.count))
            var outline = try self.outline(of: glyph)
            try renumberComponents(in: &outline, numbering)
            glyf += outline
            while glyf.count % 4 != 0 { glyf.append(0) }
            hmtx.appendU16(advances[Int(glyph)])
            hmtx.appendI16(try leftSideBearing(of: glyph, reader))
        }
        loca.appendU32(UInt32(glyf.count))

        var head = [UInt8](bytes[tables["head"]!])
        head.replace(at: 8, u32: 0)          // checkSumAdjustment, set once the file is whole
        head.replace(at: 50, u16: 1)         // long loca offsets
        var hhea = [UInt8](bytes[tables["hhea"]!])
        hhea.replace(at: 34, u16: UInt16(order.count))
        var maxp = [UInt8](bytes[tables["maxp"]!])
        maxp.replace(at: 4, u16: UInt16(order.count))

        var out: [String: [UInt8]] = ["head": head, "hhea": hhea, "maxp": maxp, "loca": loca, "glyf": glyf, "hmtx": hmtx]
        // Hinting programs do not name glyphs; keep them so small sizes render as designed.
        for tag in ["cvt ", "fpgm", "prep"] {
            if let range = tables[tag] { out[tag] = [UInt8](bytes[range]) }
        }
        var file = Self.assemble(out)
        // The whole file sums to 0xB1B0AFBA once head's adjustment is in.
        let headOffset = Self.tableOffset(of: "head", in: file)
        file.replace(at: headOffset + 8, u32: 0xB1B0_AFBA &- Self.checksum(file[...]))
        return (file, numbering)
    }

    private func outline(of glyph: UInt16) throws -> [UInt8] {
        let reader = ByteReader(bytes)
        let loca = tables["loca"]!.lowerBound, glyf = tables["glyf"]!
        let index = Int(glyph)
        let start: Int, end: Int
        if longOffsets {
            start = Int(try reader.u32(loca + 4 * index)); end = Int(try reader.u32(loca + 4 * index + 4))
        } else {
            start = 2 * Int(try reader.u16(loca + 2 * index)); end = 2 * Int(try reader.u16(loca + 2 * index + 2))
        }
        guard start <= end, glyf.lowerBound + end <= glyf.upperBound else { throw ReadError.malformed("glyph \(glyph) outside glyf") }
        return [UInt8](bytes[(glyf.lowerBound + start)..<(glyf.lowerBound + end)])
    }

    private func leftSideBearing(of glyph: UInt16, _ reader: ByteReader) throws -> Int16 {
        let metricCount = Int(try reader.u16(tables["hhea"]!.lowerBound + 34))
        let hmtx = tables["hmtx"]!.lowerBound
        let index = Int(glyph)
        if index < metricCount { return try reader.i16(hmtx + 4 * index + 2) }
        return try reader.i16(hmtx + 4 * metricCount + 2 * (index - metricCount))
    }

    /// The glyphs a composite glyph is drawn from (none for a simple one).
    private func components(of glyph: UInt16, _ reader: ByteReader) throws -> [UInt16] {
        var found: [UInt16] = []
        try forEachComponent(in: try outline(of: glyph)) { offset, outline in
            found.append(UInt16(outline[offset]) << 8 | UInt16(outline[offset + 1]))
        }
        return found
    }

    private func renumberComponents(in outline: inout [UInt8], _ numbering: [UInt16: UInt16]) throws {
        var positions: [Int] = []
        try forEachComponent(in: outline) { offset, _ in positions.append(offset) }
        for offset in positions {
            let old = UInt16(outline[offset]) << 8 | UInt16(outline[offset + 1])
            outline.replace(at: offset, u16: numbering[old] ?? 0)
        }
    }

    /// Calls `body` with the offset of each component's glyph number in a composite outline.
    private func forEachComponent(in outline: [UInt8], _ body: (Int, [UInt8]) -> Void) throws {
        guard outline.count >= 10 else { return }
        let reader = ByteReader(outline)
        guard try reader.i16(0) < 0 else { return }
        var offset = 10
        while true {
            let flags = try reader.u16(offset)
            body(offset + 2, outline)
            offset += 4
            offset += flags & 0x0001 != 0 ? 4 : 2                 // ARG_1_AND_2_ARE_WORDS
            if flags & 0x0008 != 0 { offset += 2 }                // WE_HAVE_A_SCALE
            else if flags & 0x0040 != 0 { offset += 4 }           // WE_HAVE_AN_X_AND_Y_SCALE
            else if flags & 0x0080 != 0 { offset += 8 }           // WE_HAVE_A_TWO_BY_TWO
            guard flags & 0x0020 != 0 else { return }             // MORE_COMPONENTS
        }
    }

    // MARK: Reading tables

    private static func readCharacterMap(_ reader: ByteReader, table: Range<Int>) throws -> [UInt32: UInt16] {
        let base = table.lowerBound
        var best: (rank: Int, offset: Int)?
        for index in 0..<Int(try reader.u16(base + 2)) {
            let record = base + 4 + 8 * index
            let platform = try reader.u16(record), encoding = try reader.u16(record + 2)
            let offset = base + Int(try reader.u32(record + 4))
            let format = try reader.u16(offset)
            // Full-repertoire (format 12) tables before BMP-only (format 4) ones.
            let rank: Int? = switch (platform, encoding, format) {
            case (3, 10, 12), (0, 4, 12), (0, 6, 12): 2
            case (3, 1, 4), (0, 3, 4), (0, 0, 4), (0, 1, 4): 1
            default: nil
            }
            if let rank, rank > (best?.rank ?? 0) { best = (rank, offset) }
        }
        guard let best else { throw ReadError.unsupported("no Unicode cmap") }
        var map: [UInt32: UInt16] = [:]
        if try reader.u16(best.offset) == 12 {
            let groups = Int(try reader.u32(best.offset + 12))
            for group in 0..<groups {
                let record = best.offset + 16 + 12 * group
                let first = try reader.u32(record), last = try reader.u32(record + 4), glyph = try reader.u32(record + 8)
                guard last >= first, last - first < 0x11_0000 else { continue }
                for code in first...last { map[code] = UInt16(truncatingIfNeeded: glyph + (code - first)) }
            }
        } else {
            let segments = Int(try reader.u16(best.offset + 6)) / 2
            let ends = best.offset + 14, starts = ends + 2 * segments + 2
            let deltas = starts + 2 * segments, rangeOffsets = deltas + 2 * segments
            for segment in 0..<segments {
                let end = try reader.u16(ends + 2 * segment), start = try reader.u16(starts + 2 * segment)
                let delta = try reader.u16(deltas + 2 * segment)
                let rangeOffsetAt = rangeOffsets + 2 * segment
                let rangeOffset = Int(try reader.u16(rangeOffsetAt))
                guard start <= end, start != 0xFFFF else { continue }
                for code in start...end {
                    var glyph: UInt16
                    if rangeOffset == 0 {
                        glyph = code &+ delta
                    } else {
                        let at = rangeOffsetAt + rangeOffset + 2 * Int(code - start)
                        glyph = try reader.u16(at)
                        if glyph != 0 { glyph = glyph &+ delta }
                    }
                    if glyph != 0 { map[UInt32(code)] = glyph }
                }
            }
        }
        return map
    }

    private static func readPostScriptName(_ reader: ByteReader, table: Range<Int>?) throws -> String? {
        guard let table else { return nil }
        let base = table.lowerBound
        let count = Int(try reader.u16(base + 2)), strings = base + Int(try reader.u16(base + 4))
        for index in 0..<count {
            let record = base + 6 + 12 * index
            guard try reader.u16(record + 6) == 6 else { continue }
            let platform = try reader.u16(record)
            let length = Int(try reader.u16(record + 8)), offset = Int(try reader.u16(record + 10))
            let raw = try reader.slice(strings + offset, length)
            let name = platform == 1 ? String(decoding: raw, as: UTF8.self)
                : String(decoding: stride(from: 0, to: raw.count - 1, by: 2).map { UInt16(raw[$0]) << 8 | UInt16(raw[$0 + 1]) }, as: UTF16.self)
            let cleaned = name.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            if !cleaned.isEmpty { return cleaned }
        }
        return nil
    }

    // MARK: Writing the subset file

    private static func assemble(_ tables: [String: [UInt8]]) -> [UInt8] {
        let tags = tables.keys.sorted()
        var searchRange = 1, selector = 0
        while searchRange * 2 <= tags.count { searchRange *= 2; selector += 1 }
        var file: [UInt8] = []
        file.appendU32(0x0001_0000)
        file.appendU16(UInt16(tags.count))
        file.appendU16(UInt16(searchRange * 16))
        file.appendU16(UInt16(selector))
        file.appendU16(UInt16(tags.count * 16 - searchRange * 16))
        var offset = 12 + 16 * tags.count
        var body: [UInt8] = []
        for tag in tags {
            var data = tables[tag]!
            file += Array(tag.utf8)
            file.appendU32(checksum(data[...]))
            file.appendU32(UInt32(offset))
            file.appendU32(UInt32(data.count))
            while data.count % 4 != 0 { data.append(0) }
            body += data
            offset += data.count
        }
        return file + body
    }

    private static func tableOffset(of tag: String, in file: [UInt8]) -> Int {
        let reader = ByteReader(file)
        let count = Int((try? reader.u16(4)) ?? 0)
        for index in 0..<count where Array(file[(12 + 16 * index)..<(16 + 16 * index)]) == Array(tag.utf8) {
            return Int((try? reader.u32(12 + 16 * index + 8)) ?? 0)
        }
        return 0
    }

    private static func checksum(_ data: ArraySlice<UInt8>) -> UInt32 {
        var sum: UInt32 = 0
        var index = data.startIndex
        while index < data.endIndex {
            var word: UInt32 = 0
            for byte in 0..<4 {
                word <<= 8
                if index + byte < data.endIndex { word |= UInt32(data[index + byte]) }
            }
            sum = sum &+ word
            index += 4
        }
        return sum
    }
}

/// Big-endian reads from a font file, each checked against its length.
private struct ByteReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func slice(_ offset: Int, _ length: Int) throws -> ArraySlice<UInt8> {
        guard offset >= 0, length >= 0, offset + length <= bytes.count else { throw TrueTypeFont.ReadError.malformed("read past the end at \(offset)") }
        return bytes[offset..<(offset + length)]
    }
    func u16(_ offset: Int) throws -> UInt16 {
        let b = try slice(offset, 2)
        return UInt16(b[b.startIndex]) << 8 | UInt16(b[b.startIndex + 1])
    }
    func i16(_ offset: Int) throws -> Int16 { Int16(bitPattern: try u16(offset)) }
    func u32(_ offset: Int) throws -> UInt32 { UInt32(try u16(offset)) << 16 | UInt32(try u16(offset + 2)) }
    func i32(_ offset: Int) throws -> Int32 { Int32(bitPattern: try u32(offset)) }
}

extension [UInt8] {
    mutating func appendU16(_ value: UInt16) { append(UInt8(value >> 8)); append(UInt8(value & 0xFF)) }
    mutating func appendI16(_ value: Int16) { appendU16(UInt16(bitPattern: value)) }
    mutating func appendU32(_ value: UInt32) { appendU16(UInt16(value >> 16)); appendU16(UInt16(value & 0xFFFF)) }
    mutating func replace(at offset: Int, u16 value: UInt16) { self[offset] = UInt8(value >> 8); self[offset + 1] = UInt8(value & 0xFF) }
    mutating func replace(at offset: Int, u32 value: UInt32) { replace(at: offset, u16: UInt16(value >> 16)); replace(at: offset + 2, u16: UInt16(value & 0xFFFF)) }
}
