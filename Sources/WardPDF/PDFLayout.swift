package import Foundation

/// Lays a document out top to bottom on A4 pages: headings, wrapped text, label–value fields,
/// tables whose header repeats on each page, a bar chart and a signature line. A block that does
/// not fit what is left of a page starts the next one; every page gets the footer and its
/// number ("page 2 of 3").
package final class PDFLayout {
    package struct Column: Sendable {
        package var title: String
        /// The column's share of the table's width.
        package var weight: Double
        package var alignRight: Bool

        package init(_ title: String, weight: Double = 1, alignRight: Bool = false) {
            self.title = title
            self.weight = weight
            self.alignRight = alignRight
        }
    }

    private let writer: PDFWriter
    private let footer: String
    private let margin = 50.0
    private var y = 0.0
    private var left: Double { margin }
    private var right: Double { PDFWriter.a4.width - margin }
    private var width: Double { right - left }
    private var bottom: Double { margin + 30 }

    package init(typeface: PDFTypeface, title: String, created: Date, footer: String) {
        writer = PDFWriter(typeface: typeface, title: title, created: created)
        self.footer = footer
        newPage()
    }

    private func newPage() {
        writer.beginPage()
        y = PDFWriter.a4.height - margin
    }

    /// Starts a new page unless `height` points fit on this one.
    private func ensure(_ height: Double) {
        if y - height < bottom { newPage() }
    }

    package func space(_ points: Double) {
        y -= points
    }

    package func heading(_ text: String, size: Double = 18, color: PDFColor = .black) {
        paragraph(text, size: size, bold: true, color: color)
        y -= size * 0.3
    }

    /// Text wrapped to the page's width (or `within`, from `indent`).
    package func paragraph(_ text: String, size: Double = 10, bold: Bool = false, color: PDFColor = .black) {
        for line in wrap(text, size: size, width: width) {
            ensure(size * 1.4)
            y -= size * 1.25
            writer.text(line, x: left, y: y, size: size, bold: bold, color: color)
            y -= size * 0.15
        }
    }

    /// A left line and a right-aligned line on the same baseline (a letterhead, a date).
    package func split(_ leftText: String, _ rightText: String, size: Double = 10, bold: Bool = false, color: PDFColor = .black) {
        ensure(size * 1.4)
        y -= size * 1.25
        writer.text(leftText, x: left, y: y, size: size, bold: bold, color: color)
        writer.text(rightText, x: right - writer.width(of: rightText, size: size), y: y, size: size, color: color)
        y -= size * 0.15
    }

    /// Labels in grey beside their values, two pairs to a row.
    package func fields(_ pairs: [(String, String)], size: Double = 10) {
        let half = width / 2
        for start in stride(from: 0, to: pairs.count, by: 2) {
            let row = pairs[start..<min(start + 2, pairs.count)]
            let lines = row.map { wrap($0.1, size: size, width: half - 12) }
            let height = Double(lines.map(\.count).max() ?? 1) * size * 1.4 + size * 1.3
            ensure(height)
            let top = y
            for (column, pair) in row.enumerated() {
                let x = left + Double(column) * half
                var lineY = top - size * 1.0
                writer.text(pair.0.uppercased(), x: x, y: lineY, size: size * 0.75, color: .grey)
                for line in lines[column] {
                    lineY -= size * 1.35
                    writer.text(line, x: x, y: lineY, size: size)
                }
            }
            y = top - height
        }
    }

    package func rule(color: PDFColor = .rule, weight: Double = 0.6) {
        ensure(8)
        y -= 4
        writer.line(from: (left, y), to: (right, y), width: weight, color: color)
        y -= 4
    }

    /// A table with a shaded header row, repeated at the top of every page it runs onto.
    package func table(_ columns: [Column], rows: [[String]], size: Double = 9.5) {
        let total = columns.map(\.weight).reduce(0, +)
        let widths = columns.map { $0.weight / total * width }
        let padding = 5.0
        func drawHeader() {
            ensure(size * 2.2 * 2)
            let height = size * 2.0
            writer.rectangle(x: left, y: y - height, width: width, height: height, color: .shade)
            var x = left
            for (index, column) in columns.enumerated() {
                let textWidth = writer.width(of: column.title, size: size)
                let textX = column.alignRight ? x + widths[index] - padding - textWidth : x + padding
                writer.text(column.title, x: textX, y: y - size * 1.35, size: size, bold: true)
                x += widths[index]
            }
            y -= height
        }
        drawHeader()
        for row in rows {
            let cells = columns.indices.map { wrap(row.indices.contains($0) ? row[$0] : "", size: size, width: widths[$0] - 2 * padding) }
            let height = Double(cells.map(\.count).max() ?? 1) * size * 1.3 + size * 0.8
            if y - height < bottom {
                newPage()
                drawHeader()
            }
            var x = left
            for (index, lines) in cells.enumerated() {
                var lineY = y - size * 1.25
                for line in lines {
                    let textWidth = writer.width(of: line, size: size)
                    let textX = columns[index].alignRight ? x + widths[index] - padding - textWidth : x + padding
                    writer.text(line, x: textX, y: lineY, size: size)
                    lineY -= size * 1.3
                }
                x += widths[index]
            }
            y -= height
            writer.line(from: (left, y), to: (right, y), width: 0.4)
        }
    }

    /// Horizontal bars, one per label, scaled to the largest value, each with its count.
    package func barChart(_ bars: [(label: String, value: Int)], size: Double = 9) {
        let labelWidth = min(width * 0.35, (bars.map { writer.width(of: $0.label, size: size) }.max() ?? 0) + 10)
        let barSpace = width - labelWidth - 40
        let largest = max(1, bars.map(\.value).max() ?? 1)
        for bar in bars {
            ensure(size * 2.2)
            y -= size * 1.9
            writer.text(bar.label, x: left, y: y + size * 0.25, size: size)
            let length = barSpace * Double(bar.value) / Double(largest)
            writer.rectangle(x: left + labelWidth, y: y, width: max(length, 0.8), height: size * 1.2, color: .accent)
            writer.text(String(bar.value), x: left + labelWidth + length + 5, y: y + size * 0.25, size: size)
        }
        y -= size * 0.6
    }

    /// A line to sign on, with what the signature stands for beneath it.
    package func signatureLine(_ caption: String, size: Double = 9) {
        ensure(60)
        y -= 44
        writer.line(from: (left, y), to: (left + 220, y), width: 0.8, color: .black)
        y -= size * 1.4
        writer.text(caption, x: left, y: y, size: size, color: .grey)
    }

    /// The file, each page footed with the footer and its number.
    package func render() throws -> Data {
        let count = writer.pageCount
        for page in 0..<count {
            writer.onPage(page) {
                writer.line(from: (left, margin + 12), to: (right, margin + 12), width: 0.4)
                writer.text(footer, x: left, y: margin, size: 7.5, color: .grey)
                let number = "Page \(page + 1) of \(count)"
                writer.text(number, x: right - writer.width(of: number, size: 7.5), y: margin, size: 7.5, color: .grey)
            }
        }
        return try writer.render()
    }

    /// `text` broken into lines no wider than `width`, at spaces where it can be, mid-word
    /// where a word alone is too wide. Line breaks in the text are kept.
    private func wrap(_ text: String, size: Double, width: Double) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                let candidate = line.isEmpty ? String(word) : line + " " + word
                if writer.width(of: candidate, size: size) <= width {
                    line = candidate
                    continue
                }
                if !line.isEmpty { lines.append(line) }
                line = ""
                for character in word {
                    if writer.width(of: line + String(character), size: size) > width, !line.isEmpty {
                        lines.append(line)
                        line = ""
                    }
                    line.append(character)
                }
            }
            lines.append(line)
        }
        return lines.isEmpty ? [""] : lines
    }
}
