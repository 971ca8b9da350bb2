import CWardSpawn
package import Foundation
import Glibc
import Synchronization

/// A child process, with the part of Foundation's `Process` interface the tests use, started
/// with posix_spawn: corelibs Foundation's `Process.run()` crashed now and then in a process
/// holding a thousand descriptors (an over-read listing /proc/self/fd, swiftlang/
/// swift-corelibs-foundation#5472). Standard streams take a `Pipe` or a `FileHandle`; the
/// child gets only those three descriptors.
package final class TestProcess: @unchecked Sendable {
    package var executableURL: URL?
    package var arguments: [String] = []
    package var environment: [String: String]?
    package var standardInput: Any?
    package var standardOutput: Any?
    package var standardError: Any?

    private struct State {
        var pid: pid_t = 0
        var status: Int32?
    }
    private let state = Mutex(State())

    package init() {}

    package var processIdentifier: Int32 { state.withLock { $0.pid } }

    /// Starts the process; the parent's copies of the child's pipe ends are closed, so reading
    /// a pipe ends when the child does.
    package func run() throws {
        guard let path = executableURL?.path else { throw CocoaError(.fileNoSuchFile) }
        let input = Self.descriptor(standardInput, reading: true), output = Self.descriptor(standardOutput, reading: false)
        let error = Self.descriptor(standardError, reading: false)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in env { free(pointer) }
        }
        var pid: pid_t = 0
        let status = ward_spawn(path, argv, env, input ?? -1, output ?? -1, error ?? -1, nil, &pid)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO) }
        state.withLock { $0.pid = pid }
        // The child has its ends now: the parent's go, or EOF would never come.
        var closed = Set<ObjectIdentifier>()
        for (stream, childReads) in [(standardInput, true), (standardOutput, false), (standardError, false)] {
            guard let pipe = stream as? Pipe, closed.insert(ObjectIdentifier(pipe)).inserted else { continue }
            try? (childReads ? pipe.fileHandleForReading : pipe.fileHandleForWriting).close()
        }
    }

    /// Kept for the call sites written for `Process`: spawning needs no serialising now.
    package func runAlone() throws { try run() }

    private static func descriptor(_ stream: Any?, reading: Bool) -> Int32? {
        switch stream {
        case let pipe as Pipe: (reading ? pipe.fileHandleForReading : pipe.fileHandleForWriting).fileDescriptor
        case let handle as FileHandle: handle.fileDescriptor
        default: nil
        }
    }

    /// Blocks until the process ends.
    package func waitUntilExit() {
        let pid = processIdentifier
        guard pid > 0, state.withLock({ $0.status == nil }) else { return }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        record(raw)
    }

    package var isRunning: Bool {
        let pid = processIdentifier
        guard pid > 0, state.withLock({ $0.status == nil }) else { return false }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
        record(raw)
        return false
    }

    /// The exit code, or the signal that ended it (as `Process` reports them).
    package var terminationStatus: Int32 { state.withLock { $0.status ?? 0 } }

    package func terminate() { signal(SIGTERM) }
    package func interrupt() { signal(SIGINT) }

    private func signal(_ number: Int32) {
        let pid = processIdentifier
        if pid > 0, state.withLock({ $0.status == nil }) { kill(pid, number) }
    }

    private func record(_ raw: Int32) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signalled = raw & 0x7f
        state.withLock { $0.status = signalled == 0 ? (raw >> 8) & 0xff : signalled }
    }
}

/// A Python helper server of `scripts/lib` (moto, localstripe, aiosmtpd) started as a child:
/// it prints one line once it serves (the words callers read their port and keys from) and
/// serves until its standard input closes, so it never outlives the test process.
package struct HelperServer: Sendable {
    package let process: TestProcess
    package let input: Pipe
    /// The first line it printed, split into words; empty when it could not start.
    package let greeting: [String]

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/lib")

    /// Starts `script` and blocks until it printed its line: run it off the pool (`SharedHelper`).
    package static func start(_ script: String, _ arguments: [String] = []) throws -> HelperServer {
        let process = TestProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scripts.appendingPathComponent(script).path] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        let greeting = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
        if greeting.isEmpty { process.terminate() }
        return HelperServer(process: process, input: input, greeting: greeting)
    }
}

/// A helper server the suite shares, started on first use. A Python server takes seconds to
/// start on a loaded machine: it starts on a thread of its own, and the tests asking for it
/// meanwhile wait on its task, without holding one of the cooperative pool's threads (started
/// under a lock on the pool, two tests asking at once held both of a two-core machine's).
package final class SharedHelper<Server: Sendable>: Sendable {
    private let start: @Sendable () throws -> Server
    private let started = Mutex<Task<Server, any Error>?>(nil)

    package init(_ start: @escaping @Sendable () throws -> Server) {
        self.start = start
    }

    /// The server, once started; a start that failed fails every caller the same way.
    package func server() async throws -> Server {
        let task = started.withLock { task in
            if let task { return task }
            let start = self.start
            let starting = Task { try await offThePool(start) }
            task = starting
            return starting
        }
        return try await task.value
    }
}

/// Runs a command-line tool (qpdf, pdftotext, openssl…) and collects what it printed: tests
/// check Ward's output with independent implementations. The tool is waited for on a thread of
/// its own.
package enum ExternalTool {
    @discardableResult
    package static func run(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await offThePool { try runBlocking(name, arguments) }
    }

    private static func runBlocking(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = TestProcess()
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

    /// The text `pdftotext` reads from the PDF in `data`.
    package static func pdfText(_ data: Data) async throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ward-\(UUID().uuidString).pdf")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await run("pdftotext", ["-enc", "UTF-8", url.path, "-"]).output
    }

    /// Whether `qpdf --check` finds the PDF in `data` sound.
    package static func pdfIsSound(_ data: Data) async throws -> Bool {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ward-\(UUID().uuidString).pdf")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let check = try await run("qpdf", ["--check", url.path])
        return check.status == 0 && check.output.contains("No syntax or stream encoding errors")
    }
}
