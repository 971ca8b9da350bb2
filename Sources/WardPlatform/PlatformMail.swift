import Foundation
import SQLKit
package import WardCore
package import WardMail
package import WardStorage

/// The control plane's emails: a new clinic's welcome to its first administrator, and the
/// alert to control-plane administrators when a provisioning fails for good.
package enum PlatformMail {
    package static let welcome = MailTemplate(
        name: "welcome", summary: "To a new clinic's first administrator: the link to set a password",
        subject: "Your Ward for {{clinic}} is ready",
        text: """
            Hello {{name}},

            Ward for {{clinic}} is ready, and you are its administrator.
            Set your password before {{expires}}:

            {{link}}

            The link works once. If you did not expect this email, ignore it.
            """,
        html: """
            <p>Hello {{name}},</p>
            <p>Ward for <strong>{{clinic}}</strong> is ready, and you are its administrator.
            Set your password before {{expires}}:</p>
            <p><a href="{{link}}">Set your password</a></p>
            <p>The link works once. If you did not expect this email, ignore it.</p>
            """,
        sample: ["name": "Dr Asha Rao", "clinic": "North Clinic", "expires": "2026-12-06T09:00:00Z",
                 "link": "https://north.ward.example/app/set-password?token=sample"]
    )

    package static let provisioningFailed = MailTemplate(
        name: "provisioning_failed", summary: "To control-plane administrators: a clinic's provisioning failed and was rolled back",
        subject: "Provisioning of {{slug}} failed",
        text: """
            Provisioning of the clinic {{slug}} ({{clinic}}) failed on its last attempt and was rolled back.

            Step and error: {{error}}

            The clinic is marked failed. Retry it from the console or with
            POST /api/v1/platform/tenants/{{slug}}/retry once the cause is fixed.
            """,
        html: """
            <p>Provisioning of the clinic <strong>{{slug}}</strong> ({{clinic}}) failed on its last attempt and was rolled back.</p>
            <p>Step and error: <code>{{error}}</code></p>
            <p>The clinic is marked failed. Retry it from the console once the cause is fixed.</p>
            """,
        sample: ["slug": "north", "clinic": "North Clinic", "error": "migrate: connection refused"]
    )

    /// Moves the welcome emails an earlier version left unsent in `email_outbox` (sealed under
    /// its own key, with no sender) into the outbox, once: each is marked sent there as it moves.
    /// A control plane not migrated yet (a command run before `ward migrate`) has none.
    package static func importLegacyOutbox(storage: Storage, outbox: Outbox, settings: WardSettings) async throws {
        let table = SQLQualifiedTable("email_outbox", space: storage.controlPlaneTarget.schema)
        let box = SecretBox(secretKey: settings.secretKey ?? "", previousKeys: settings.auth.previousSecretKeys, purpose: "ward email outbox v1")
        guard let rows = try? await storage.controlPlane.read({ database in
            try await database.select().columns("id", "tenant_id", "template", "recipient", "subject", "body_sealed").from(table)
                .where("sent_at", .is, SQLLiteral.null).all()
        }) else { return }
        for row in rows {
            let id = try row.decode(column: "id", as: String.self)
            let tenantID = try row.decode(column: "tenant_id", as: String.self)
            let tenant = try await storage.tenants.list().first { $0.id == tenantID }
            if let body = box.open(try row.decode(column: "body_sealed", as: String.self)), let tenant {
                try await outbox.queue(template: try row.decode(column: "template", as: String.self), tenant: tenant.slug,
                                       recipient: MailAddress(try row.decode(column: "recipient", as: String.self)),
                                       subject: try row.decode(column: "subject", as: String.self), text: body, html: nil, dedupeKey: "legacy:\(id)")
            }
            try await storage.controlPlane.transaction { database in
                try await database.update(table).set("sent_at", to: Timestamp.now()).where("id", .equal, id).run()
            }
        }
    }
}
