import Logging
import NIOPosix
import Synchronization
import VaporCSQLite

/// Moves committed pages from a SQLite file's write-ahead log into the file, off the commit
/// path. By default SQLite checkpoints inside the commit that crosses a thousand WAL pages:
/// that commit writes and flushes a thousand pages to the main file while every audited read
/// waiting on it waits too. Here the writer only notes the log's size after each commit (a
/// WAL hook, which also turns SQLite's own checkpointing off), and a connection of its own
/// checkpoints on the blocking pool, PASSIVE: it never blocks the writer or a reader.
final class SQLiteCheckpointer: Sendable {
    /// WAL pages after which a checkpoint starts.
    static let thresholdPages = 1_000
    /// WAL pages after which the writer finishes the checkpoint itself (see `writerMustCatchUp`).
    static let limitPages = 4_000

    /// Whether the log has outgrown the checkpoints running beside the writer, so the next
    /// commit should finish one itself.
    var writerMustCatchUp: Bool { walPages.value >= Self.limitPages }
    /// The WAL size the last commit left, written by SQLite's WAL hook.
    private let walPages: WALPages
    private let state = Mutex(State())
    private let path: String
    private let logger: Logger

    private struct State {
        var handle: SQLiteHandle?
        var running = false
        var closed = false
    }

    init(writer: SQLiteHandle, path: String, logger: Logger) {
        self.walPages = WALPages()
        self.path = path
        self.logger = logger
        writer.installWALHook(walPages)
    }

    /// Called after each commit: starts a checkpoint when the log has grown past the threshold
    /// and none is running.
    func committed() {
        guard walPages.value >= Self.thresholdPages else { return }
        let start = state.withLock { state -> Bool in
            guard !state.running, !state.closed else { return false }
            state.running = true
            return true
        }
        guard start else { return }
        NIOThreadPool.singleton.submit { [self] work in
            defer { state.withLock { $0.running = false } }
            guard case .active = work else { return }
            do {
                let handle = try state.withLock { state -> SQLiteHandle in
                    if let handle = state.handle { return handle }
                    let handle = try SQLiteHandle(path: path)
                    state.handle = handle
                    return handle
                }
                try handle.execute("PRAGMA wal_checkpoint(PASSIVE)")
            } catch {
                logger.warning("sqlite checkpoint failed", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    /// Waits (bounded) for a running checkpoint and closes the connection.
    func close() async {
        state.withLock { $0.closed = true }
        for _ in 0..<1_000 where state.withLock({ $0.running }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        state.withLock { state in
            if !state.running { state.handle?.close() }
            state.handle = nil
        }
    }
}

/// The page count SQLite's WAL hook reports after each commit.
final class WALPages: Sendable {
    private let pages = Atomic<Int>(0)
    var value: Int { pages.load(ordering: .relaxed) }
    func set(_ count: Int) { pages.store(count, ordering: .relaxed) }
}

extension SQLiteHandle {
    /// Records the WAL's size after each commit in `pages`; SQLite then no longer checkpoints by
    /// itself (its automatic checkpoint is this same hook).
    func installWALHook(_ pages: WALPages) {
        withConnection { connection in
            let context = Unmanaged.passUnretained(pages).toOpaque()
            _ = sqlite_nio_sqlite3_wal_hook(connection, { context, _, _, count in
                if let context { Unmanaged<WALPages>.fromOpaque(context).takeUnretainedValue().set(Int(count)) }
                return SQLITE_OK
            }, context)
        }
    }
}
