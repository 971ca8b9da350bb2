import SQLKit
import WardCore
package import WardStorage

/// Each tenant's newest audit event as last seen from outside the tenant's database: its
/// sequence number and hash, kept in the control plane.
///
/// The hash chain shows an event changed or removed anywhere in a trail but at its end: a
/// trail with its newest events cut off is still a valid chain. Against the witness it is not,
/// because `ward audit verify` finds the witnessed event missing or different. The witness only
/// moves forward. The `audit.witness` job records every live tenant's head every five minutes, so
/// events younger than the last witness are the only ones whose removal goes unseen.
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
        if let newest = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 1).first {
            let table = self.table
            try await database.transaction { database in
                try await database.raw("""
                    INSERT INTO \(table) (tenant_id, seq, hash, recorded_at)
                    VALUES (\(bind: scope.tenant.id), \(bind: newest.seq), \(bind: newest.hash), \(bind: Timestamp.now()))
                    ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, recorded_at = excluded.recorded_at
                    WHERE excluded.seq > \(table).seq
                    """).run()
            }
        }
        return try await head(of: scope.tenant)
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
