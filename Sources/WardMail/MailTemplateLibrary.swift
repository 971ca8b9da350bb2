import Foundation
package import SQLKit
import WardCore
import Synchronization
package import WardStorage

/// The emails Ward sends, as the modules that send them registered them, and each tenant's own
/// wording of them (the tenant's `mail_templates` table) where it chose one.
package final class MailTemplateLibrary: Sendable {
    private let registered = Mutex<[String: MailTemplate]>([:])

    package init() {}

    /// Adds a module's templates; a name registered twice is a programming error.
    package func register(_ templates: [MailTemplate]) {
        registered.withLock { registered in
            for template in templates {
                precondition(registered[template.name] == nil, "email template \(template.name) registered twice")
                registered[template.name] = template
            }
        }
    }

    /// Every registered template, by name.
    package var all: [MailTemplate] {
        registered.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    package func builtIn(_ name: String) -> MailTemplate? {
        registered.withLock { $0[name] }
    }

    /// The template as `scope`'s tenant words it (its own wording, else the built-in one).
    package func template(_ name: String, for scope: TenantScope?) async throws -> MailTemplate {
        guard let template = builtIn(name) else { throw MailConfigurationError("no email template named \(name)") }
        guard let scope, let own = try await wording(of: name, in: scope) else { return template }
        return template.replacing(subject: own.subject, text: own.text, html: own.html)
    }

    /// A tenant's own wording of `name`, if it has one.
    package func wording(of name: String, in scope: TenantScope) async throws -> (subject: String, text: String, html: String, updatedAt: String)? {
        let table = try scope.table("mail_templates")
        guard let row = try await scope.read({ database in
            try await database.select().columns("subject", "text", "html", "updated_at").from(table).where("name", .equal, name).first()
        }) else { return nil }
        return (try row.decode(column: "subject", as: String.self), try row.decode(column: "text", as: String.self),
                try row.decode(column: "html", as: String.self), try row.decode(column: "updated_at", as: String.self))
    }

    /// Saves a tenant's wording (replacing an earlier one) inside the caller's transaction.
    package func save(name: String, subject: String, text: String, html: String, by user: String?, in scope: TenantScope, database: any SQLDatabase) async throws {
        let table = try scope.table("mail_templates")
        try await database.delete(from: table).where("name", .equal, name).run()
        try await database.insert(into: table).columns("name", "subject", "text", "html", "updated_by", "updated_at")
            .values(SQLBind(name), SQLBind(subject), SQLBind(text), SQLBind(html), SQLBind(user), SQLBind(Timestamp.now())).run()
    }

    /// Removes a tenant's wording: the built-in one applies again. Returns whether there was one.
    package func reset(name: String, in scope: TenantScope, database: any SQLDatabase) async throws -> Bool {
        let table = try scope.table("mail_templates")
        let existed = try await database.select().column("name").from(table).where("name", .equal, name).first() != nil
        try await database.delete(from: table).where("name", .equal, name).run()
        return existed
    }
}
