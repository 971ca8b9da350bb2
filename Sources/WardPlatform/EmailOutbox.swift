import Foundation
import SQLKit
import WardCore
import WardIdentity
package import WardStorage

/// Emails waiting to be sent, in the control plane. Bodies are sealed with a key derived from
/// the node's secret: a welcome email carries a set-password link that must not sit readable in
/// the database. Sending arrives with the email module; until then the outbox is the record.
package struct EmailOutbox: Sendable {
    /// One queued email, its body opened.
    package struct Message: Sendable, Equatable {
        package var id: String
        package var tenantID: String
        package var template: String
        package var recipient: String
        package var subject: String
        package var body: String
        package var createdAt: String
    }

    private let database: any Database
    private let table: SQLQualifiedTable
    private let box: SecretBox

    package init(storage: Storage, secretKey: String, previousKeys: [String]) {
        self.database = storage.controlPlane
        self.table = SQLQualifiedTable("email_outbox", space: storage.controlPlaneTarget.schema)
        self.box = SecretBox(secretKey: secretKey, previousKeys: previousKeys, purpose: "ward email outbox v1")
    }

    /// Whether the tenant already has an email of `template` queued or sent.
    func contains(tenantID: String, template: String) async throws -> Bool {
        let table = self.table
        return try await database.read { database in
            try await database.select().column("id").from(table).where("tenant_id", .equal, tenantID).where("template", .equal, template).first() != nil
        }
    }

    /// Queues an email unless one of the same template is already queued for the tenant.
    func enqueue(tenantID: String, template: String, recipient: String, subject: String, body: String) async throws {
        let table = self.table
        let sealed = try box.seal(body)
        try await database.transaction { database in
            try await database.raw("""
                INSERT INTO \(table) (id, tenant_id, template, recipient, subject, body_sealed, created_at)
                VALUES (\(bind: UUIDv7.id()), \(bind: tenantID), \(bind: template), \(bind: recipient), \(bind: subject),
                        \(bind: sealed), \(bind: Timestamp.now()))
                ON CONFLICT (tenant_id, template) DO NOTHING
                """).run()
        }
    }

    /// Drops a tenant's unsent emails of `template` (or of every template).
    func remove(tenantID: String, template: String? = nil) async throws {
        let table = self.table
        try await database.transaction { database in
            let query = database.delete(from: table).where("tenant_id", .equal, tenantID).where("sent_at", .is, SQLLiteral.null)
            if let template { query.where("template", .equal, template) }
            try await query.run()
        }
    }

    /// A tenant's queued emails, bodies opened.
    package func messages(tenantID: String) async throws -> [Message] {
        let table = self.table
        let rows = try await database.read { database in
            try await database.select().columns("id", "tenant_id", "template", "recipient", "subject", "body_sealed", "created_at").from(table)
                .where("tenant_id", .equal, tenantID).orderBy("created_at").all()
        }
        return try rows.map { row in
            Message(id: try row.decode(column: "id", as: String.self), tenantID: try row.decode(column: "tenant_id", as: String.self),
                    template: try row.decode(column: "template", as: String.self), recipient: try row.decode(column: "recipient", as: String.self),
                    subject: try row.decode(column: "subject", as: String.self),
                    body: box.open(try row.decode(column: "body_sealed", as: String.self)) ?? "",
                    createdAt: try row.decode(column: "created_at", as: String.self))
        }
    }
}
