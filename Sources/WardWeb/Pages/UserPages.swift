import Foundation
import Hummingbird
import WardAudit
import WardCore
import WardHTTP
import WardIdentity

/// The clinic's users and roles, for its administrators: add a user (who sets their own
/// password from a link), give and take roles, unlock, disable and enable. The identity
/// service's rules hold here as on the API (no grant beyond one's own permissions, never
/// without an active tenant_admin).
struct UserPages: Sendable {
    let app: WebApp

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("users") { request, context in try await list(request, context) }
        signedIn.post("users") { request, context in try await add(request, context) }
        signedIn.get("users/{id}") { request, context in try await user(request, context) }
        for action in ["roles/add", "roles/remove", "unlock", "disable", "enable", "password-link"] {
            signedIn.post(RouterPath("users/{id}/\(action)")) { request, context in try await act(action, request, context) }
        }
    }

    // MARK: The list

    struct ListModel {
        let shell: Shell
        let users: [UserRow]
        let roles: [RoleRow]
        var fields: [Field]
        var problem: String?
        var problemDetail: String?
    }
    struct UserRow { let id, name, email, roles, status: String }
    struct RoleRow { let name, permissions, secondFactor: String }

    func list(_ request: Request, _ context: WardRequestContext, form: FormBody? = nil, errors: [(field: String, message: String)] = [],
              status: HTTPResponse.Status = .ok, problem: String? = nil, detail: String? = nil) async throws -> Response {
        try await app.require(IdentityModule.usersManage, request, context)
        let scope = try context.requireTenant()
        let users = try await app.identity.users(in: scope).map {
            UserRow(id: $0.id, name: $0.name, email: $0.email, roles: $0.roles.joined(separator: ", "), status: $0.lockedUntil == nil ? $0.status : "locked")
        }
        let roles = try await app.identity.roles(in: scope)
        var fields = [
            Field("name", "Name", value: form?["name"], required: true, autocomplete: "off"),
            Field("email", "Email", type: "email", value: form?["email"], required: true),
            Field.select("role", "Role", choices: [("", "Choose…")] + roles.map { ($0.name, $0.name) }, value: form?["role"], required: true),
        ]
        let unplaced = fields.attach(errors)
        let model = ListModel(shell: try app.shell(context, current: "/app/users"), users: users,
                              roles: roles.map { RoleRow(name: $0.name, permissions: $0.permissions.sorted().joined(separator: ", "),
                                                         secondFactor: $0.requiresSecondFactor ? "required" : "—") },
                              fields: fields, problem: problem ?? (errors.isEmpty ? nil : "The user was not added."),
                              problemDetail: detail ?? (unplaced.isEmpty ? nil : unplaced.joined(separator: " ")))
        return app.renderer.page("users", model, status: status)
    }

    func add(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require(IdentityModule.usersManage, request, context)
        let form = try await FormBody.read(request)
        let scope = try context.requireTenant(), actor = AuditActor(request, context)
        guard let role = form["role"] else {
            return try await list(request, context, form: form, errors: [("role", "Choose a role.")], status: .unprocessableContent)
        }
        do {
            // The user gets a long random password nobody knows (digits: no name can be in it),
            // and a link to set their own.
            let unknown = (0..<48).map { _ in String(Int.random(in: 0...9)) }.joined()
            let user = try await app.identity.createUser(in: scope, email: form["email"] ?? "", name: form["name"] ?? "",
                                                         password: unknown, roles: [role], by: actor)
            let grant = try await app.identity.issuePasswordReset(for: user.id, in: scope, by: actor, lifetime: IdentityService.welcomeTokenLifetime)
            return try await self.user(request, context, id: user.id, link: grant)
        } catch IdentityError.invalidInput(let errors) {
            return try await list(request, context, form: form, errors: errors.map { ($0.field, $0.message) }, status: .unprocessableContent)
        } catch IdentityError.emailTaken {
            return try await list(request, context, form: form, errors: [("email", "is already used by another user of this clinic")], status: .conflict)
        } catch let error as IdentityError {
            return try await list(request, context, form: form, status: HTTPResponse.Status(code: error.problem.status), problem: error.problem.title,
                                  detail: error.problem.detail)
        }
    }

    // MARK: One user

    struct UserModel {
        let shell: Shell
        let id, name, email, status, lastLogin: String
        let roles: [Role]
        let locked, active: Bool
        var roleFields: [Field]
        let link: String?
        let linkExpires: String?
        var problem: String?
        var problemDetail: String?
    }
    struct Role { let name, userID: String }

    func user(_ request: Request, _ context: WardRequestContext, id: String? = nil, link: IdentityService.ResetGrant? = nil,
              status: HTTPResponse.Status = .ok, problem: String? = nil, detail: String? = nil) async throws -> Response {
        try await app.require(IdentityModule.usersManage, request, context)
        let scope = try context.requireTenant(), zone = WebApp.timeZone(scope)
        let id = try id ?? Self.userID(context)
        let user: UserView
        do { user = try await app.identity.user(id, in: scope) } catch IdentityError.userNotFound { throw PageError.notFound }
        let roles = try await app.identity.roles(in: scope).map(\.name).filter { !user.roles.contains($0) }
        let model = UserModel(
            shell: try app.shell(context, current: "/app/users"), id: user.id, name: user.name, email: user.email, status: user.status,
            lastLogin: user.lastLoginAt.flatMap(Timestamp.date).map { TodayPage.stamp.string(from: $0, in: zone) } ?? "never",
            roles: user.roles.map { Role(name: $0, userID: user.id) }, locked: user.lockedUntil != nil, active: user.status == "active",
            roleFields: [Field.select("role", "Add a role", choices: [("", "Choose…")] + roles.map { ($0, $0) }, value: nil)],
            link: link.map { "/app/set-password?token=\($0.token)" },
            linkExpires: link.flatMap { Timestamp.date($0.expiresAt) }.map { TodayPage.stamp.string(from: $0, in: zone) },
            problem: problem, problemDetail: detail
        )
        return app.renderer.page("user", model, status: status)
    }

    func act(_ action: String, _ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require(IdentityModule.usersManage, request, context)
        let id = try Self.userID(context), scope = try context.requireTenant(), actor = AuditActor(request, context)
        let form = try await FormBody.read(request)
        do {
            switch action {
            case "roles/add":
                guard let role = form["role"] else { return try await user(request, context, status: .unprocessableContent, problem: "Choose a role to add.") }
                _ = try await app.identity.assignRole(role, to: id, in: scope, by: actor)
            case "roles/remove":
                _ = try await app.identity.revokeRole(form["role"] ?? "", from: id, in: scope, by: actor)
            case "unlock":
                _ = try await app.identity.unlock(id, in: scope, by: actor)
            case "disable", "enable":
                _ = try await app.identity.updateUser(id, in: scope, name: nil, status: action == "disable" ? "disabled" : "active", by: actor)
            default:
                let grant = try await app.identity.issuePasswordReset(for: id, in: scope, by: actor)
                return try await user(request, context, link: grant)
            }
        } catch IdentityError.userNotFound {
            throw PageError.notFound
        } catch let error as IdentityError {
            return try await user(request, context, status: HTTPResponse.Status(code: error.problem.status), problem: error.problem.title,
                                  detail: error.problem.detail)
        }
        return Response.seeOther("/app/users/\(id)")
    }

    static func userID(_ context: WardRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard ParameterFormat.uuid.problem(with: id) == nil else { throw PageError.notFound }
        return id.lowercased()
    }
}
