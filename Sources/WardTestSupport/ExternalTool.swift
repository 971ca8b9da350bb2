package import Foundation
import Synchronization

extension Process {
    private static let launching = Mutex(())

    /// Starts the process, one launch at a time in this test process: swift-corelibs-
    /// foundation's `Process.run()` crashed once in `memcpy` while the parallel suite launched
    /// several at once (CI, 2026-12-03).
    package func runAlone() throws {
        try Self.launching.withLock { _ in try run() }
    }
}

/// Runs a command-line tool (qpdf, pdftotext, openssl…) and collects what it printed: tests
/// check Ward's output with independent implementations.
package enum ExternalTool {
    @discardableResult
    package static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.runAlone()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The text `pdftotext` reads from the PDF at `path` (or in `data`).
    package static func pdfText(_ data: Data) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ward-\(UUID().uuidString).pdf")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try run("pdftotext", ["-enc", "UTF-8", url.path, "-"]).output
    }

    /// Whether `qpdf --check` finds the PDF in `data` sound.
    package static func pdfIsSound(_ data: Data) throws -> Bool {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ward-\(UUID().uuidString).pdf")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let check = try run("qpdf", ["--check", url.path])
        return check.status == 0 && check.output.contains("No syntax or stream encoding errors")
    }
}
