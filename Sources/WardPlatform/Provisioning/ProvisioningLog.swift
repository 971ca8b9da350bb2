import Foundation
import SQLKit
import WardCore
package import WardStorage

/// The record of every provisioning step run: tenant, step, attempt, start, end, duration,
/// outcome and error, in the control plane next to the tenant.
package struct ProvisioningLog: Sendable {
    /// One recorded step.
    package struct Entry: Codable, Sendable, Equatable {
        package var id: String
        package var tenantID: String
        package var jobID: String?
        package var step: String
        package var attempt: Int
        package var startedAt: String
        package var finishedAt: String
        package var durationMs: Int
        package var outcome: String
        package var error: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, tenantID = "tenant_id", jobID = "job_id", step, attempt, startedAt = "started_at", finishedAt = "finished_at"
            case durationMs = "duration_ms", outcome, error
        }
    }

    private let database: any Database
    private let table: SQLQualifiedTable

    package init(storage: Storage) {
        self.database = storage.controlPlane
        self.table = SQLQualifiedTable("provisioning_steps", space: storage.controlPlaneTarget.schema)
    }

    func record(_ entry: Entry) async throws {
        let table = self.table
        try await database.transaction { database in try await database.insert(into: table).model(entry).run() }
    }

    /// The steps recorded for a tenant, in the order they ran; `after` (an entry id) pages on.
    package func entries(tenantID: String, after: String? = nil) async throws -> [Entry] {
        let table = self.table
        return try await database.read { database in
            let query = database.select().columns(Entry.CodingKeys.allCases.map(\.rawValue)).from(table).where("tenant_id", .equal, tenantID)
            if let after { query.where("id", .greaterThan, after) }
            return try await query.orderBy("id").limit(1000).all(decoding: Entry.self)
        }
    }
}
