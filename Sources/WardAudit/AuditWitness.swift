import Foundation
import SQLKit
import WardCore
package import WardStorage

/// Each tenant's newest audit event as last seen from outside the tenant's database: its
/// sequence number and hash, kept in the control plane.
///
/// The hash chain shows an event changed or removed anywhere in a trail but at its end: a
/// trail with its newest events cut off is still a valid chain. Against the witness it is not,
/// because `ward audit verify` finds the witnessed event missing or different. The witness only
/// moves forward. Each node's audit writer records the head it committed, at most every ten
/// seconds per tenant, and every five minutes the `audit.witness` job records the head of each
/// live tenant whose database was written since; events younger than the last witness are the
/// only ones whose removal goes unseen.
package struct AuditWitness: Sendable {
    package struct Head: Sendable, Equatable {
        package var seq: Int64
        package var hash: String
        package var recordedAt: String
    }

    private let database: any Database
    private let table: SQLQualifiedTable

    package init(storage: Storage) {
        self.database = storage.controlPlane
        self.table = SQLQualifiedTable("audit_witness", space: storage.controlPlaneTarget.schema)
    }

    /// Records the tenant's newest event as its head, unless the witness already holds a later
    /// one; returns the head the witness holds afterwards.
    @discardableResult
    package func record(_ scope: TenantScope) async throws -> Head? {
        try await recordNewest(in: scope)
        return try await head(of: scope.tenant)
    }

    /// Records the tenant's newest event as its head, unless the witness already holds a later one.
    package func recordNewest(in scope: TenantScope) async throws {
        // Stamped before the head is read: anything written after this moment may be missing
        // from it, which is what `recordIfWritten` relies on.
        let readAt = Date()
        if let newest = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 1).first {
            try await record(seq: newest.seq, hash: newest.hash, of: scope.tenant.id, readAt: readAt)
        }
    }

    /// Records `seq` and `hash` as the head of the tenant with id `tenantID`, as the trail stood
    /// at `readAt`: it replaces a head with a lower number, and confirms (moves `recorded_at`
    /// forward for) the same event; a different event under the same number changes nothing.
    func record(seq: Int64, hash: String, of tenantID: String, readAt: Date) async throws {
        let table = self.table
        try await database.autocommit { database in
            try await database.raw("""
                INSERT INTO \(table) (tenant_id, seq, hash, recorded_at)
                VALUES (\(bind: tenantID), \(bind: seq), \(bind: hash), \(bind: Timestamp.text(readAt)))
                ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, recorded_at = excluded.recorded_at
                WHERE excluded.seq > \(table).seq
                   OR (excluded.seq = \(table).seq AND excluded.hash = \(table).hash AND excluded.recorded_at > \(table).recorded_at)
                """).run()
        }
    }

    /// Records the tenant's head unless its database has not been written since the witness
    /// last confirmed it: on SQLite the file's modification time answers that without opening
    /// it, so the five-minute job no longer opens (and pushes out of the open set) the file of
    /// every idle tenant. A second's margin covers the file system's coarse clock.
    package func recordIfWritten(_ tenant: Tenant, in tenants: TenantDirectory) async throws {
        if let written = try tenants.lastWritten(tenant), let head = try await head(of: tenant),
           let confirmed = Timestamp.date(head.recordedAt), written < confirmed.addingTimeInterval(-1) {
            return
        }
        try await recordNewest(in: try await tenants.scope(for: tenant))
    }

    /// The head the witness holds for `tenant`, if it has seen one.
    package func head(of tenant: Tenant) async throws -> Head? {
        let table = self.table
        return try await database.read { database in
            guard let row = try await database.select().columns("seq", "hash", "recorded_at").from(table)
                .where("tenant_id", .equal, tenant.id).first() else { return nil }
            return Head(seq: try row.decode(column: "seq", as: Int64.self), hash: try row.decode(column: "hash", as: String.self),
                        recordedAt: try row.decode(column: "recorded_at", as: String.self))
        }
    }

    /// What is wrong with the tenant's trail against its witnessed head, if anything.
    package func check(_ scope: TenantScope) async throws -> (seq: Int64, problem: String)? {
        guard let head = try await head(of: scope.tenant) else { return nil }
        // Retention never removes a trail's newest event, and the retention job witnesses each
        // head before it removes anything, so the witnessed event outlives any retention. An
        // anchor past it was set by someone else; one at it must be the event the witness saw.
        if let anchor = try await AuditRetention.anchor(in: scope), head.seq <= anchor.seq {
            if head.seq == anchor.seq, head.hash == anchor.hash { return nil }
            return (head.seq, "event \(head.seq), witnessed at \(head.recordedAt), was removed behind the retention anchor at event \(anchor.seq)")
        }
        let witnessed = try await AuditStore.events(in: scope, filter: .init(), before: head.seq - 1, limit: 1, ascending: true).first
        guard let witnessed, witnessed.seq == head.seq else {
            return (head.seq, "event \(head.seq), witnessed at \(head.recordedAt), is missing: the trail was cut short")
        }
        guard witnessed.hash == head.hash else {
            return (head.seq, "event \(head.seq) differs from the one witnessed at \(head.recordedAt)")
        }
        return nil
    }
}
