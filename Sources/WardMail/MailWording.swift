package import WardAudit
import WardCore
import WardHTTP
package import WardStorage

/// A clinic's own wording of its emails, as the API and the web app change it: checked before
/// it is saved (lengths, control characters, mustache syntax, each named by its field), saved
/// with an audit event, previewed with each template's sample values.
package struct MailWording: Sendable {
    package let library: MailTemplateLibrary
    let audit: AuditTrail

    static let subject = TextField.singleLine(max: 300)
    static let body = TextField.freeText(min: 1, max: 20_000)

    package init(library: MailTemplateLibrary, audit: AuditTrail) {
        self.library = library
        self.audit = audit
    }

    /// The registered template `name`, or `unknownTemplate`.
    package func template(_ name: String) throws -> MailTemplate {
        guard let template = library.builtIn(name) else { throw MailError.unknownTemplate(name) }
        return template
    }

    /// Saves the clinic's wording of `name`.
    package func set(_ name: String, subject: String, text: String, html: String, in scope: TenantScope, by actor: AuditActor) async throws {
        _ = try template(name)
        try Self.check(subject: subject, text: text, html: html)
        let library = self.library, audit = self.audit
        try await scope.transaction { database in
            try await library.save(name: name, subject: subject, text: text, html: html, by: actor.id, in: scope, database: database)
            try await audit.append(actor.record("update", resourceType: "mail_template", resourceID: name), in: database, scope: scope)
        }
    }

    /// Goes back to the built-in wording of `name`.
    package func reset(_ name: String, in scope: TenantScope, by actor: AuditActor) async throws {
        _ = try template(name)
        let library = self.library, audit = self.audit
        try await scope.transaction { database in
            guard try await library.reset(name: name, in: scope, database: database) else { return }
            try await audit.append(actor.record("delete", resourceType: "mail_template", resourceID: name), in: database, scope: scope)
        }
    }

    /// `name` rendered with its sample values, in the parts of `draft` given and the clinic's
    /// current wording for the rest.
    package func preview(_ name: String, subject: String?, text: String?, html: String?, in scope: TenantScope) async throws -> (subject: String, text: String, html: String) {
        _ = try template(name)
        let current = try await library.template(name, for: scope)
        let wording = current.replacing(subject: subject ?? current.subject, text: text ?? current.text, html: html ?? current.html)
        try Self.check(subject: wording.subject, text: wording.text, html: wording.html)
        return try wording.render(current.sample)
    }

    static func check(subject: String, text: String, html: String) throws {
        var errors: [Problem.FieldError] = []
        Self.subject.check(subject, "subject", into: &errors)
        Self.body.check(text, "text", into: &errors)
        Self.body.check(html, "html", into: &errors)
        if errors.isEmpty {
            errors += MailTemplate.check(subject: subject, text: text, html: html).map { Problem.FieldError(field: $0.field, message: $0.message) }
        }
        if !errors.isEmpty { throw MailError.invalid(errors) }
    }
}
