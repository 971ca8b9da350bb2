import Foundation
import HTTPTypes
package import Hummingbird
import WardAudit
import WardCore
package import WardHTTP
import OpenAPIKit
package import WardKit

/// `/api/v1/users` and `/api/v1/roles`: the management API (`users:manage`, `roles:manage`).
package struct UserController: Sendable {
    let identity: IdentityService
    let resetMail: PasswordResetMail

    package init(identity: IdentityService, resetMail: PasswordResetMail) {
        self.identity = identity
        self.resetMail = resetMail
    }

    private static let users = IdentityModule.usersManage
    private static let roles = IdentityModule.rolesManage

    package static let operations: [APIOperation] = [
        APIOperation("listUsers", .get, "/api/v1/users", summary: "List users", tag: "identity", access: .staff, permission: users,
                     success: (200, "application/json", ItemList<UserView>.self), problems: [401, 403]),
        APIOperation("createUser", .post, "/api/v1/users", summary: "Create a user", tag: "identity", access: .staff, permission: users,
                     success: (201, "application/json", UserView.self), problems: [400, 401, 403, 404, 409, 422], request: NewUser.self),
        APIOperation("readUser", .get, "/api/v1/users/{id}", summary: "One user", tag: "identity", access: .staff, permission: users,
                     success: (200, "application/json", UserView.self), problems: [401, 403, 404]),
        APIOperation("updateUser", .patch, "/api/v1/users/{id}", summary: "Rename, disable or enable a user", tag: "identity", access: .staff,
                     permission: users, success: (200, "application/json", UserView.self), problems: [400, 401, 403, 404, 409, 422], request: UserChange.self),
        APIOperation("unlockUser", .post, "/api/v1/users/{id}/unlock", summary: "Clear a lockout", tag: "identity", access: .staff,
                     permission: users, success: (200, "application/json", UserView.self), problems: [401, 403, 404]),
        APIOperation("grantRole", .put, "/api/v1/users/{id}/roles/{role}", summary: "Grant a role", tag: "identity", access: .staff,
                     permission: users, success: (200, "application/json", UserView.self), problems: [401, 403, 404]),
        APIOperation("revokeRole", .delete, "/api/v1/users/{id}/roles/{role}", summary: "Revoke a role", tag: "identity", access: .staff,
                     permission: users, success: (200, "application/json", UserView.self), problems: [401, 403, 404, 409]),
        APIOperation("issuePasswordReset", .post, "/api/v1/users/{id}/password-reset", summary: "Issue a one-time password reset token (valid one hour); it is also emailed to the user",
                     tag: "identity", access: .staff, permission: users, success: (201, "application/json", IdentityService.ResetGrant.self), problems: [401, 403, 404]),
        APIOperation("listRoles", .get, "/api/v1/roles", summary: "List roles with their permissions", tag: "identity", access: .staff,
                     permission: roles, success: (200, "application/json", ItemList<RoleView>.self), problems: [401, 403]),
        APIOperation("createRole", .post, "/api/v1/roles", summary: "Create a custom role (409 when the name is taken)", tag: "identity", access: .staff,
                     permission: roles, success: (201, "application/json", RoleView.self), problems: [400, 401, 403, 409, 422], request: NewRole.self),
        APIOperation("setRolePermissions", .put, "/api/v1/roles/{name}/permissions", summary: "Replace a custom role's permissions", tag: "identity",
                     access: .staff, permission: roles, success: (200, "application/json", RoleView.self), problems: [400, 401, 403, 404, 409, 422], request: PermissionList.self),
    ]

    /// A taken email answers 409; a role that does not exist, 404.
    struct NewUser: APIRequestBody {
        let email: String
        let name: String
        let password: String
        let roles: [String]?
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["email": TextRules.emailSchema, "name": IdentityService.userName.schema,
             "password": PasswordPolicy(minimumLength: context.passwordMinimumLength).schema,
             "roles": .array(maxItems: IdentityService.maximumRolesPerRequest, items: ParameterFormat.roleName.schema)]
        }
    }
    struct UserChange: APIRequestBody {
        let name: String?
        let status: String?
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["name": IdentityService.userName.schema, "status": .enumeration(["active", "disabled"])]
        }
    }
    struct NewRole: APIRequestBody {
        let name: String
        let description: String?
        let permissions: [String]
        let requiresSecondFactor: Bool?
        enum CodingKeys: String, CodingKey { case name, description, permissions, requiresSecondFactor = "requires_second_factor" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["name": ParameterFormat.roleName.schema, "description": IdentityService.roleDescription.schema, "permissions": permissionsSchema(context)]
        }
    }
    struct PermissionList: APIRequestBody {
        let permissions: [String]
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["permissions": permissionsSchema(context)] }
    }

    /// Permissions a request names: those the modules define, at most twice as many.
    static func permissionsSchema(_ context: SchemaContext) -> JSONSchema {
        .array(maxItems: IdentityService.maximumPermissionsPerRequest(defined: context.permissionNames.count), items: .enumeration(context.permissionNames))
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let identity = self.identity
        /// Binds a handler whose refusals beyond the caller's own privileges (`Grantor`) are
        /// audited as denied before they are answered.
        func on(_ name: String, _ handler: @escaping @Sendable (Request, WardRequestContext) async throws -> Response) {
            routes.on(name) { request, context -> Response in
                do {
                    return try await handler(request, context)
                } catch IdentityError.beyondOwnPrivileges(let reason) {
                    try await identity.audit.record(AuditActor(request, context).record(
                        "permission_change", resourceType: context.endpointPath ?? "users", resourceID: context.parameters.get("id"),
                        outcome: .denied, reason: reason), in: try context.requireTenant())
                    throw IdentityError.beyondOwnPrivileges(reason)
                }
            }
        }
        on("listUsers") { _, context -> Response in
            try JSONResponse.make(ItemList(try await identity.users(in: try context.requireTenant())))
        }
        on("createUser") { request, context -> Response in
            let body = try await request.decode(as: NewUser.self, context: context)
            let user = try await identity.createUser(in: try context.requireTenant(), email: body.email, name: body.name,
                                                     password: body.password, roles: body.roles ?? [], by: AuditActor(request, context))
            var response = try JSONResponse.make(user)
            response.status = .created
            return response
        }
        on("readUser") { _, context -> Response in
            try JSONResponse.make(try await identity.user(try context.parameters.require("id"), in: try context.requireTenant()))
        }
        on("updateUser") { request, context -> Response in
            let body = try await request.decode(as: UserChange.self, context: context)
            return try JSONResponse.make(try await identity.updateUser(try context.parameters.require("id"), in: try context.requireTenant(),
                                                                         name: body.name, status: body.status, by: AuditActor(request, context)))
        }
        on("unlockUser") { request, context -> Response in
            try JSONResponse.make(try await identity.unlock(try context.parameters.require("id"), in: try context.requireTenant(),
                                                              by: AuditActor(request, context)))
        }
        on("grantRole") { request, context -> Response in
            try JSONResponse.make(try await identity.assignRole(try context.parameters.require("role"), to: try context.parameters.require("id"),
                                                                  in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        on("revokeRole") { request, context -> Response in
            try JSONResponse.make(try await identity.revokeRole(try context.parameters.require("role"), from: try context.parameters.require("id"),
                                                                  in: try context.requireTenant(), by: AuditActor(request, context)))
        }
        let resetMail = self.resetMail
        on("issuePasswordReset") { request, context -> Response in
            let id = try context.parameters.require("id"), scope = try context.requireTenant()
            let grant = try await identity.issuePasswordReset(for: id, in: scope, by: AuditActor(request, context))
            // The link also goes to the user's own address, so it need not pass through the administrator.
            try await resetMail.send(grant, toUser: id, in: scope)
            var response = try JSONResponse.make(grant)
            response.status = .created
            return response
        }
        on("listRoles") { _, context -> Response in
            try JSONResponse.make(ItemList(try await identity.roles(in: try context.requireTenant())))
        }
        on("createRole") { request, context -> Response in
            let body = try await request.decode(as: NewRole.self, context: context)
            var response = try JSONResponse.make(try await identity.createRole(in: try context.requireTenant(), name: body.name,
                                                                                 description: body.description ?? "", permissions: body.permissions,
                                                                                 requiresSecondFactor: body.requiresSecondFactor ?? false,
                                                                                 by: AuditActor(request, context)))
            response.status = .created
            return response
        }
        on("setRolePermissions") { request, context -> Response in
            let body = try await request.decode(as: PermissionList.self, context: context)
            return try JSONResponse.make(try await identity.setPermissions(body.permissions, ofRole: try context.parameters.require("name"),
                                                                             in: try context.requireTenant(), by: AuditActor(request, context)))
        }
    }

}
