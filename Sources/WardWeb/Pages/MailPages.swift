import Foundation
import Hummingbird
import WardAudit
import WardCore
import WardHTTP
import WardMail

/// The clinic's emails, for its administrators: each email's wording (the built-in one or the
/// clinic's own), changed with a preview before saving, and the emails sent lately with what
/// the mail server answered.
struct MailPages: Sendable {
    let app: WebApp

    struct ListModel {
        let shell: Shell
        let templates: [TemplateRow]
        let mail: [MailRow]
    }
    struct TemplateRow { let name, summary: String; let customized: Bool }
    struct MailRow { let created, template, status, attempts, reply, sent: String }

    struct EditModel {
        let shell: Shell
        let name, summary: String
        let customized: Bool
        let fields: [Field]
        let problem: String?
        let problemDetail: String?
        let preview: Preview?
    }
    struct Preview { let subject, text, html: String }

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("mail") { request, context in try await list(request, context) }
        signedIn.get("mail/templates/{name}") { request, context in try await edit(request, context) }
        signedIn.post("mail/templates/{name}") { request, context in try await change(request, context) }
    }

    func list(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("mail:manage", request, context)
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        var templates: [TemplateRow] = []
        for template in app.outbox.templates.all {
            templates.append(TemplateRow(name: template.name, summary: template.summary,
                                         customized: try await app.outbox.templates.wording(of: template.name, in: scope) != nil))
        }
        func time(_ stamp: String?) -> String { stamp.flatMap(Timestamp.date).map { TodayPage.stamp.string(from: $0, in: zone) } ?? "—" }
        let mail = try await app.outbox.mail(tenant: scope.tenant.slug).suffix(50).reversed().map {
            MailRow(created: time($0.createdAt), template: $0.template, status: $0.status.rawValue, attempts: String($0.attempts),
                    reply: $0.lastReply ?? "", sent: time($0.sentAt))
        }
        var shell = try app.shell(context, current: "/app/mail")
        if let saved = request.uri.queryParameters.get("saved") { shell.notice = "The wording of \(saved) is saved." }
        if let reset = request.uri.queryParameters.get("reset") { shell.notice = "\(reset) uses the built-in wording again." }
        return app.renderer.page("mail", ListModel(shell: shell, templates: templates, mail: Array(mail)))
    }

    func edit(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("mail:manage", request, context)
        let name = try context.parameters.require("name")
        guard app.outbox.templates.builtIn(name) != nil else { throw PageError.notFound }
        let current = try await app.outbox.templates.template(name, for: try context.requireTenant())
        return try await page(request, context, name: name, subject: current.subject, text: current.text, html: current.html)
    }

    func change(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require("mail:manage", request, context)
        let name = try context.parameters.require("name")
        guard app.outbox.templates.builtIn(name) != nil else { throw PageError.notFound }
        let form = try await FormBody.read(request)
        let scope = try context.requireTenant(), actor = AuditActor(request, context)
        let wording = app.mailWording
        // Text areas keep their line breaks; the form reader refuses other control characters.
        let subject = form["subject"] ?? ""
        let text = (form.raw("text") ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        let html = (form.raw("html") ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        do {
            switch form["action"] {
            case "reset":
                try await wording.reset(name, in: scope, by: actor)
                return Response.seeOther("/app/mail?reset=\(name)")
            case "save":
                try await wording.set(name, subject: subject, text: text, html: html, in: scope, by: actor)
                return Response.seeOther("/app/mail?saved=\(name)")
            default:
                let rendered = try await wording.preview(name, subject: subject, text: text, html: html, in: scope)
                return try await page(request, context, name: name, subject: subject, text: text, html: html,
                                      preview: Preview(subject: rendered.subject, text: rendered.text, html: rendered.html))
            }
        } catch MailError.invalid(let errors) {
            return try await page(request, context, name: name, subject: subject, text: text, html: html, errors: errors, status: .unprocessableContent)
        }
    }

    private func page(_ request: Request, _ context: WardRequestContext, name: String, subject: String, text: String, html: String,
                      preview: Preview? = nil, errors: [Problem.FieldError] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let scope = try context.requireTenant()
        guard let template = app.outbox.templates.builtIn(name) else { throw PageError.notFound }
        var fields = [
            Field("subject", "Subject", value: subject, required: true),
            Field.textarea("text", "Plain text", value: text, rows: 12, hint: "Values in double braces, such as {{name}}, are filled in when the email is sent.", required: true),
            Field.textarea("html", "HTML", value: html, rows: 12, hint: "The same message as HTML; values are escaped.", required: true),
        ]
        for error in errors {
            if let index = fields.firstIndex(where: { $0.name == error.field }) { fields[index].error = "It \(error.message)." }
        }
        let model = EditModel(
            shell: try app.shell(context, current: "/app/mail"), name: name, summary: template.summary,
            customized: try await app.outbox.templates.wording(of: name, in: scope) != nil, fields: fields,
            problem: errors.isEmpty ? nil : "The wording was not saved.", problemDetail: errors.isEmpty ? nil : "Correct the fields marked below.",
            preview: preview
        )
        return app.renderer.page("mail-template", model, status: status)
    }
}
