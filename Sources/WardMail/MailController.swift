import Foundation
import Hummingbird
import OpenAPIKit
import WardAudit
import WardCore
package import WardHTTP

/// `/api/v1/mail`: what a tenant's emails say (its own wording of each, previewed before it is
/// saved) and what was sent.
package struct MailController: Sendable {
    let outbox: Outbox
    let wording: MailWording

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
            ["subject": MailWording.subject.schema, "text": MailWording.body.schema, "html": MailWording.body.schema]
        }
    }
    struct DraftWording: APIRequestBody {
        let subject: String?
        let text: String?
        let html: String?
        static var schemaName: String { "MailDraftWording" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["subject": MailWording.subject.schema, "text": MailWording.body.schema, "html": MailWording.body.schema]
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
        let outbox = self.outbox, wording = self.wording
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
            let template = try wording.template(name)
            let body = try await request.decode(as: Wording.self, context: context)
            let scope = try context.requireTenant()
            try await wording.set(name, subject: body.subject, text: body.text, html: body.html, in: scope, by: AuditActor(request, context))
            let own = try await library.wording(of: name, in: scope)
            return try JSONResponse.make(TemplateView(name: name, summary: template.summary, subject: body.subject, text: body.text, html: body.html,
                                                      customized: true, updatedAt: own?.updatedAt))
        }
        routes.on("resetMailTemplate") { request, context -> Response in
            try await wording.reset(try context.parameters.require("name"), in: try context.requireTenant(), by: AuditActor(request, context))
            return Response(status: .noContent)
        }
        routes.on("previewMailTemplate") { request, context -> Response in
            let name = try context.parameters.require("name")
            _ = try wording.template(name)
            let draft = try await request.decode(as: DraftWording.self, context: context)
            let rendered = try await wording.preview(name, subject: draft.subject, text: draft.text, html: draft.html, in: try context.requireTenant())
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
}
