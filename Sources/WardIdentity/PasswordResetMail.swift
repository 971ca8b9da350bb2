import Foundation
import SQLKit
package import WardAudit
import WardCore
package import WardMail
package import WardStorage

/// Password reset by email: a user who forgot their password asks for a link (the answer is
/// the same whether the address has an account, so it reveals none), and a link an
/// administrator issues is mailed to the user as well. Links point at the web app's
/// set-password page.
package struct PasswordResetMail: Sendable {
    package static let template = MailTemplate(
        name: "password_reset", summary: "To a user: the one-time link to set a new password",
        subject: "Reset your Ward password for {{clinic}}",
        text: """
            Hello {{name}},

            Someone (we hope you) asked to reset your password for Ward at {{clinic}}.
            Set a new one before {{expires}}:

            {{link}}

            The link works once. If you did not ask for it, ignore this email: your password
            stays as it is.
            """,
        html: """
            <p>Hello {{name}},</p>
            <p>Someone (we hope you) asked to reset your password for Ward at {{clinic}}. Set a new one before {{expires}}:</p>
            <p><a href="{{link}}">Set a new password</a></p>
            <p>The link works once. If you did not ask for it, ignore this email: your password stays as it is.</p>
            """,
        sample: ["name": "Dana Doctor", "clinic": "North Clinic", "expires": "2026-12-03T10:00:00Z",
                 "link": "https://north.ward.example/app/set-password?token=sample"]
    )

    let identity: IdentityService
    let outbox: Outbox
    let baseDomain: String?

    package init(identity: IdentityService, outbox: Outbox, baseDomain: String?) {
        self.identity = identity
        self.outbox = outbox
        self.baseDomain = baseDomain
    }

    /// The web app's set-password page for `token`: absolute under the base domain, else the
    /// path (the node does not know its own address).
    package static func link(tenant: String, token: String, baseDomain: String?) -> String {
        baseDomain.map { "https://\(tenant).\($0)/app/set-password?token=\(token)" }
            ?? "/app/set-password?token=\(token) on this clinic's Ward address"
    }

    /// Self-service: mails a reset link when `email` names an active user of the clinic. Throttled
    /// by client address like logins; at most one link per user every ten minutes. Returns
    /// nothing either way.
    package func request(email: String, tenant slug: String, by actor: AuditActor) async throws {
        if let wait = identity.throttle.attempt(from: "reset/" + (actor.clientAddress ?? "unknown")) {
            throw IdentityError.throttled(retryAfterSeconds: wait)
        }
        guard let scope = try await identity.activeScopeOrNil(slug.lowercased()) else { return }
        let key = email.lowercased().trimmingCharacters(in: .whitespaces)
        let users = try scope.table("users")
        guard let user = try await scope.read({ database in
            try await database.select().columns("id", "email", "name", "status").from(users).where("email_key", .equal, key).first()
        }), try user.decode(column: "status", as: String.self) == "active" else {
            try await identity.audit.record(actor.record("password_reset_request", resourceType: "user", outcome: .denied, reason: "no active user",
                                                         details: ["email": String(key.prefix(254))]), in: scope)
            return
        }
        let id = try user.decode(column: "id", as: String.self)
        let window = Int(identity.clock.now.timeIntervalSince1970 / 600)
        let dedupeKey = "password_reset:\(scope.tenant.slug):\(id):\(window)"
        guard try await !outbox.isQueued(dedupeKey: dedupeKey) else { return }
        try await identity.audit.record(actor.record("password_reset_request", resourceType: "user", resourceID: id), in: scope)
        let grant = try await identity.issuePasswordReset(for: id, in: scope, by: .system)
        try await send(grant, to: try user.decode(column: "email", as: String.self), name: try user.decode(column: "name", as: String.self),
                       in: scope, dedupeKey: dedupeKey)
    }

    /// Mails a link an administrator issued to the user it is for.
    package func send(_ grant: IdentityService.ResetGrant, toUser id: String, in scope: TenantScope) async throws {
        let user = try await identity.user(id, in: scope)
        try await send(grant, to: user.email, name: user.name, in: scope, dedupeKey: "password_reset:\(scope.tenant.slug):\(RefreshToken.hash(grant.token))")
    }

    private func send(_ grant: IdentityService.ResetGrant, to email: String, name: String, in scope: TenantScope, dedupeKey: String) async throws {
        guard MailAddress.isValid(email) else { return }
        try await outbox.send(Letter(
            template: Self.template.name, tenant: scope.tenant.slug, recipient: MailAddress(email, name: name),
            values: ["name": name, "clinic": scope.tenant.name, "expires": grant.expiresAt,
                     "link": Self.link(tenant: scope.tenant.slug, token: grant.token, baseDomain: baseDomain)],
            dedupeKey: dedupeKey
        ), scope: scope)
    }
}
