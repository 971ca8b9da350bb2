import Foundation
import Hummingbird
import OpenAPIKit
package import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/mail`: what a tenant's emails say (its own wording of each, previewed before it is
/// saved) and what was sent.
package struct MailController: Sendable {
    let outbox: Outbox
    let audit: AuditTrail

    static let subject = TextField.singleLine(max: 300)
    static let body = TextField.freeText(min: 1, max: 20_000)

    package static let operations: [APIOperation] = [
        APIOperation("listMailTemplates", .get, "/api/v1/mail/templates", summary: "The emails this clinic sends, each in its own wording or the built-in one",
                     tag: "mail", access: .staff, permission: "mail:manage", success: (200, "application/json", ItemList<TemplateView>.self), problems: [401, 403]),
        APIOperation("setMailTemplate", .put, "/api/v1/mail/templates/{name}", summary: "Word an email the clinic's own way (mustache; checked before it is saved)",
                     tag: "mail", access: .staff, permission: "mail:manage", success: (200, "application/json", TemplateView.self),
                     problems: [400, 401, 403, 404, 422], request: Wording.self),
        APIOperation("resetMailTemplate", .delete, "/api/v1/mail/templates/{name}", summary: "Go back to the built-in wording",
                     tag: "mail", access: .staff, permission: "mail:manage", success: (204, "application/json", nil), problems: [401, 403, 404]),
        APIOperation("previewMailTemplate", .post, "/api/v1/mail/templates/{name}/preview",
                     summary: "The email as it would read with sample values: in the wording given, else the clinic's current one",
                     tag: "mail", access: .staff, permission: "mail:manage", success: (200, "application/json", Preview.self),
                     problems: [400, 401, 403, 404, 422], request: DraftWording.self),
        APIOperation("listMail", .get, "/api/v1/mail", summary: "The clinic's emails, oldest first: template, status, attempts and the mail server's last reply",
                     tag: "mail", access: .staff, permission: "mail:manage", success: (200, "application/json", ItemList<SentMail>.self), problems: [401, 403]),
    ]

    struct TemplateView: Codable, APIResponseBody {
        let name: String
        let summary: String
        let subject: String
        let text: String
        let html: String
        let customized: Bool
        let updatedAt: String?
        enum CodingKeys: String, CodingKey { case name, summary, subject, text, html, customized, updatedAt = "updated_at" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["updated_at": .dateTime] }
    }
    struct Wording: APIRequestBody {
        let subject: String
        let text: String
        let html: String
        static var schemaName: String { "MailWording" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["subject": MailController.subject.schema, "text": MailController.body.schema, "html": MailController.body.schema]
        }
    }
    struct DraftWording: APIRequestBody {
        let subject: String?
        let text: String?
        let html: String?
        static var schemaName: String { "MailDraftWording" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["subject": MailController.subject.schema, "text": MailController.body.schema, "html": MailController.body.schema]
        }
    }
    struct Preview: Codable, APIResponseBody {
        let subject: String
        let text: String
        let html: String
        static var schemaName: String { "MailPreview" }
    }
    struct SentMail: Codable, APIResponseBody {
        let id: String
        let template: String
        let status: String
        let attempts: Int
        let lastReply: String?
        let createdAt: String
        let sentAt: String?
        enum CodingKeys: String, CodingKey { case id, template, status, attempts, lastReply = "last_reply", createdAt = "created_at", sentAt = "sent_at" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["status": .enumeration(["queued", "sent", "failed", "suppressed"]), "created_at": .dateTime, "sent_at": .dateTime]
        }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let outbox = self.outbox, audit = self.audit
        let library = outbox.templates
        routes.on("listMailTemplates") { _, context -> Response in
            let scope = try context.requireTenant()
            var views: [TemplateView] = []
            for template in library.all {
                let own = try await library.wording(of: template.name, in: scope)
                views.append(TemplateView(name: template.name, summary: template.summary, subject: own?.subject ?? template.subject,
                                          text: own?.text ?? template.text, html: own?.html ?? template.html, customized: own != nil, updatedAt: own?.updatedAt))
            }
            return try JSONResponse.make(ItemList(views))
        }
        routes.on("setMailTemplate") { request, context -> Response in
            let name = try context.parameters.require("name")
            guard let template = library.builtIn(name) else { throw MailError.unknownTemplate(name) }
            let body = try await request.decode(as: Wording.self, context: context)
            try Self.check(subject: body.subject, text: body.text, html: body.html, template: template)
            let scope = try context.requireTenant()
            let actor = AuditActor(request, context)
            try await scope.transaction { database in
                try await library.save(name: name, subject: body.subject, text: body.text, html: body.html, by: actor.id, in: scope, database: database)
                try await audit.append(actor.record("update", resourceType: "mail_template", resourceID: name), in: database, scope: scope)
            }
            let own = try await library.wording(of: name, in: scope)
            return try JSONResponse.make(TemplateView(name: name, summary: template.summary, subject: body.subject, text: body.text, html: body.html,
                                                      customized: true, updatedAt: own?.updatedAt))
        }
        routes.on("resetMailTemplate") { request, context -> Response in
            let name = try context.parameters.require("name")
            guard library.builtIn(name) != nil else { throw MailError.unknownTemplate(name) }
            let scope = try context.requireTenant()
            let actor = AuditActor(request, context)
            try await scope.transaction { database in
                guard try await library.reset(name: name, in: scope, database: database) else { return }
                try await audit.append(actor.record("delete", resourceType: "mail_template", resourceID: name), in: database, scope: scope)
            }
            return Response(status: .noContent)
        }
        routes.on("previewMailTemplate") { request, context -> Response in
            let name = try context.parameters.require("name")
            guard library.builtIn(name) != nil else { throw MailError.unknownTemplate(name) }
            let draft = try await request.decode(as: DraftWording.self, context: context)
            let current = try await library.template(name, for: try context.requireTenant())
            let subject = draft.subject ?? current.subject, text = draft.text ?? current.text, html = draft.html ?? current.html
            try Self.check(subject: subject, text: text, html: html, template: current)
            let rendered = try current.replacing(subject: subject, text: text, html: html).render(current.sample)
            return try JSONResponse.make(Preview(subject: rendered.subject, text: rendered.text, html: rendered.html))
        }
        routes.on("listMail") { _, context -> Response in
            let scope = try context.requireTenant()
            let mail = try await outbox.mail(tenant: scope.tenant.slug)
            return try JSONResponse.make(ItemList(mail.map {
                SentMail(id: $0.id, template: $0.template, status: $0.status.rawValue, attempts: $0.attempts, lastReply: $0.lastReply,
                         createdAt: $0.createdAt, sentAt: $0.sentAt)
            }))
        }
    }

    /// Lengths, control characters and mustache syntax, each named by its field.
    static func check(subject: String, text: String, html: String, template: MailTemplate) throws {
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
