import Hummingbird
import WardHTTP
import WardIdentity

/// The clinic's users and roles, for its administrators.
struct UserPages: Sendable {
    let app: WebApp

    struct Model {
        let shell: Shell
        let users: [UserRow]
        let roles: [RoleRow]
    }
    struct UserRow { let name, email, roles, status: String }
    struct RoleRow { let name, permissions, secondFactor: String }

    func register(_ signedIn: RouterGroup<WardRequestContext>) {
        signedIn.get("users") { request, context in try await show(request, context) }
    }

    func show(_ request: Request, _ context: WardRequestContext) async throws -> Response {
        try await app.require(IdentityModule.usersManage, request, context)
        let scope = try context.requireTenant()
        let users = try await app.identity.users(in: scope).map {
            UserRow(name: $0.name, email: $0.email, roles: $0.roles.joined(separator: ", "), status: $0.lockedUntil == nil ? $0.status : "locked")
        }
        let roles = try await app.identity.roles(in: scope).map {
            RoleRow(name: $0.name, permissions: $0.permissions.sorted().joined(separator: ", "), secondFactor: $0.requiresSecondFactor ? "required" : "—")
        }
        return app.renderer.page("users", Model(shell: try app.shell(context, current: "/app/users"), users: users, roles: roles))
    }
}
