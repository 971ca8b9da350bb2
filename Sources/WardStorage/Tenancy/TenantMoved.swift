import PostgresNIO
package import WardCore

/// A write reached a tenant's old schema after `ward tenant move` switched the tenant to
/// another shard: the old schema refuses every change with SQLSTATE `WMOVD`. A scope runs the
/// write again on the new shard (`TenantScope.relocation`); one that cannot find it yet
/// answers 503, and the client's retry finds it.
package struct TenantMoved: Error, ProblemConvertible, CustomStringConvertible {
    package let slug: String

    /// The SQLSTATE the old schema's triggers raise.
    package static let sqlState = "WMOVD"

    package static func matches(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return error.serverInfo?[.sqlState] == sqlState
    }

    /// Whether `error` says a schema or table is missing: what a read meets on a schema its
    /// move dropped (`TenantScope.read` then asks where the tenant is now).
    static func schemaGone(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "3F000" || state == "42P01"
    }

    package var problem: Problem {
        Problem(status: 503, title: "Tenant moving", detail: "The clinic's data is moving to another database; try again in a moment.")
    }

    package var retryAfter: Int? { 1 }
    package var description: String { "tenant \(slug) moved to another shard" }
}
