import Foundation
import SQLKit
import Synchronization
import WardCore
package import WardStorage

/// The clinics that run a car park, in the control plane: the tenants the no-show job visits.
/// A clinic is recorded before its first facility is stored, so no reservation exists in a
/// tenant the record lacks; each start also records every tenant found with a facility that a
/// build before this record existed stored. Without it, the job was
/// queued for every clinic every five minutes, and with a thousand clinics on SQLite it opened
/// a thousand files each time to find nothing.
package final class ParkingTenants: Sendable {
    private let database: any Database
    private let table: SQLQualifiedTable
    /// The tenants this node recorded: each booking records its clinic, once per node.
    private let known = Mutex<Set<String>>([])

    package init(storage: Storage) {
        database = storage.controlPlane
        table = SQLQualifiedTable("parking_tenants", space: storage.controlPlaneTarget.schema)
    }

    /// Records the tenant with id `tenantID` as running a car park (again: harmless).
    package func record(_ tenantID: String) async throws {
        guard !known.withLock({ $0.contains(tenantID) }) else { return }
        let table = self.table
        try await database.autocommit { database in
            try await database.raw("""
                INSERT INTO \(table) (tenant_id, recorded_at) VALUES (\(bind: tenantID), \(bind: Timestamp.now()))
                ON CONFLICT (tenant_id) DO NOTHING
                """).run()
        }
        known.withLock { _ = $0.insert(tenantID) }
    }

    /// The ids of the tenants recorded.
    package func all() async throws -> Set<String> {
        let table = self.table
        return try await database.read { database in
            Set(try await database.select().column("tenant_id").from(table).all().map { try $0.decode(column: "tenant_id", as: String.self) })
        }
    }

    /// Forgets a purged tenant.
    package func forget(_ tenantID: String) async throws {
        known.withLock { _ = $0.remove(tenantID) }
        let table = self.table
        try await database.autocommit { database in
            try await database.delete(from: table).where("tenant_id", .equal, tenantID).run()
        }
    }
}
