import Foundation
import NIOPosix
import SQLiteNIO
import VaporCSQLite

/// Copies of SQLite database files for backups, through SQLite's online backup API: the copy is
/// one consistent snapshot of the file, taken from a connection of its own while the node goes
/// on serving. In WAL mode readers and the writer do not block each other, so the copy holds
/// nobody up; it is taken in a single step, because a step-by-step copy of a file another
/// connection writes to starts over at each write.
package enum SQLiteFileCopy {
    /// Copies the database at `source` into a new file at `destination` (replaced if present).
    package static func backup(from source: String, to destination: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            try? FileManager.default.removeItem(atPath: destination)
            let from = try SQLiteHandle(path: source), to = try SQLiteHandle(path: destination)
            defer {
                from.close()
                to.close()
            }
            // The snapshot's read transaction waits out a checkpoint or a writer's lock for a while.
            from.setBusyTimeout(milliseconds: 30_000)
            var failure: SQLiteFailure?
            from.withConnection { source in
                to.withConnection { target in
                    guard let backup = sqlite_nio_sqlite3_backup_init(target, "main", source, "main") else {
                        failure = SQLiteFailure(code: sqlite_nio_sqlite3_errcode(target), message: String(cString: sqlite_nio_sqlite3_errmsg(target)))
                        return
                    }
                    let status = sqlite_nio_sqlite3_backup_step(backup, -1)
                    let finished = sqlite_nio_sqlite3_backup_finish(backup)
                    if status != SQLITE_DONE {
                        failure = SQLiteFailure(code: status, message: String(cString: sqlite_nio_sqlite3_errstr(status)))
                    } else if finished != SQLITE_OK {
                        failure = SQLiteFailure(code: finished, message: String(cString: sqlite_nio_sqlite3_errstr(finished)))
                    }
                }
            }
            if let failure { throw failure }
            // The copy is a rollback-journal file of its own; the node sets WAL when it opens it.
            try to.execute("PRAGMA journal_mode=DELETE")
        }
    }

    /// What `PRAGMA integrity_check` says of the file: `["ok"]` when it is sound.
    package static func integrityCheck(_ path: String) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            guard FileManager.default.fileExists(atPath: path) else { throw SQLiteFailure(code: SQLITE_CANTOPEN, message: "no file \(path)") }
            let handle = try SQLiteHandle(path: path)
            defer { handle.close() }
            var lines: [String] = []
            try handle.run("PRAGMA integrity_check", []) { row in
                if case .text(let line) = row.values.first { lines.append(line) }
            }
            return lines
        }
    }

    /// The number of rows in each table of the file (SQLite's own tables left out).
    package static func rowCounts(_ path: String) async throws -> [String: Int] {
        try await NIOThreadPool.singleton.runIfActive {
            let handle = try SQLiteHandle(path: path)
            defer { handle.close() }
            var tables: [String] = []
            try handle.run("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", []) { row in
                if case .text(let name) = row.values.first { tables.append(name) }
            }
            var counts: [String: Int] = [:]
            for table in tables {
                let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                try handle.run("SELECT COUNT(*) FROM \(quoted)", []) { row in
                    if case .integer(let count) = row.values.first { counts[table] = count }
                }
            }
            return counts
        }
    }
}

extension SQLiteFileCopy {
    /// The rows `sql` returns from the file, each value as text (NULL as "").
    package static func query(_ path: String, _ sql: String) async throws -> [[String]] {
        try await NIOThreadPool.singleton.runIfActive {
            let handle = try SQLiteHandle(path: path)
            defer { handle.close() }
            var rows: [[String]] = []
            try handle.run(sql, []) { row in
                rows.append(row.values.map { value in
                    switch value {
                    case .integer(let number): String(number)
                    case .float(let number): String(number)
                    case .text(let text): text
                    case .blob, .null: ""
                    }
                })
            }
            return rows
        }
    }
}
