package import OpenAPIKit
import Foundation
import SQLKit
import WardCore
package import WardHTTP
package import WardStorage
package import WardAudit
package import WardKit

/// A user as the management API shows it; never a password hash.
package struct UserView: Codable, Sendable, Equatable, APIResponseBody {
    package static var schemaName: String { "User" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["status": .enumeration(["active", "disabled"]), "locked_until": .dateTime, "last_login_at": .dateTime, "created_at": .dateTime]
    }

    package var id: String
    package var email: String
    package var name: String
    package var status: String
    package var roles: [String]
    package var lockedUntil: String?
    package var lastLoginAt: String?
    package var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, email, name, status, roles
        case lockedUntil = "locked_until", lastLoginAt = "last_login_at", createdAt = "created_at"
    }
}

/// A role with its permissions.
package struct RoleView: Codable, Sendable, Equatable, APIResponseBody {
    package static var schemaName: String { "Role" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["permissions": .array(items: .enumeration(context.permissionNames))]
    }

    package var id: String
    package var name: String
    package var description: String
    package var builtIn: Bool
    /// Holders of this role must enrol a second factor before any permission applies.
    package var requiresSecondFactor: Bool
    package var permissions: [String]

    enum CodingKeys: String, CodingKey {
        case id, name, description, permissions
        case builtIn = "built_in", requiresSecondFactor = "requires_second_factor"
    }
}

extension IdentityService {
    static let tenantAdminRoleID = BuiltInRole.tenantAdmin.id

    // MARK: Users

    /// Creates a user with `password` (checked against the policy) and the named roles.
    package func createUser(in scope: TenantScope, email: String, name: String, password: String, roles roleNames: [String], by actor: AuditActor) async throws -> UserView {
        let audit = self.audit
        var errors: [Problem.FieldError] = []
        if !TextRules.isEmail(email) { errors.append(.init(field: "email", message: "must be an email address")) }
        Self.userName.check(name, "name", into: &errors)
        let name = name.trimmingCharacters(in: .whitespaces)
        if roleNames.count > Self.maximumRolesPerRequest { errors.append(.init(field: "roles", message: "must name at most \(Self.maximumRolesPerRequest) roles")) }
        if !errors.isEmpty { throw IdentityError.invalidInput(errors) }
        let violations = policy.violations(of: password, email: email, name: name)
        if !violations.isEmpty { throw IdentityError.invalidPassword(violations) }
        let hash = try await hasher.hash(password)
        let id = UUIDv7.id()
        let now = Timestamp.now()
        let users = try scope.table("users"), roles = try scope.table("roles"), userRoles = try scope.table("user_roles")
        try await scope.transaction { database in
            if try await database.select().column("id").from(users).where("email_key", .equal, email.lowercased()).first() != nil {
                throw IdentityError.emailTaken
            }
            try await database.insert(into: users)
                .columns("id", "email", "email_key", "name", "status", "password_hash", "password_changed_at", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(email), SQLBind(email.lowercased()), SQLBind(name), SQLBind("active"), SQLBind(hash),
                        SQLBind(now), SQLBind(now), SQLBind(now))
                .run()
            let grantor = try await Grantor.of(actor, in: database, scope: scope)
            for roleName in Set(roleNames) {
                guard let role = try await database.select().column("id").from(roles).where("name", .equal, roleName).first() else {
                    throw IdentityError.roleNotFound(roleName)
                }
                let roleID = try role.decode(column: "id", as: String.self)
                try grantor?.mayGrant(roleID: roleID, named: roleName, permissions: try await Grantor.permissions(ofRole: roleID, in: database, scope: scope), to: nil)
                try await database.insert(into: userRoles).columns("user_id", "role_id", "granted_at")
                    .values(SQLBind(id), SQLBind(roleID), SQLBind(now)).run()
            }
            try await audit.append(actor.record("create", resourceType: "user", resourceID: id,
                                                details: ["roles": Set(roleNames).sorted().joined(separator: ",")]), in: database, scope: scope)
        }
        return try await user(id, in: scope)
    }

    /// Every user of the tenant, by email.
    package func users(in scope: TenantScope) async throws -> [UserView] {
        try await userViews(in: scope, where: nil)
    }

    /// One user; throws `userNotFound`.
    package func user(_ id: String, in scope: TenantScope) async throws -> UserView {
        guard let user = try await userViews(in: scope, where: id).first else { throw IdentityError.userNotFound }
        return user
    }

    private func userViews(in scope: TenantScope, where id: String?) async throws -> [UserView] {
        let users = try scope.table("users"), roles = try scope.table("roles"), userRoles = try scope.table("user_roles")
        return try await scope.read { database in
            var query = database.select().columns(UserRow.columns.map { SQLColumn($0, table: "u") }).column(SQLColumn("name", table: "r"), as: "role")
                .from(SQLAlias(users, as: SQLIdentifier("u")))
                .join(SQLAlias(userRoles, as: SQLIdentifier("ur")), method: SQLJoinMethod.left, on: SQLColumn("user_id", table: "ur"), .equal, SQLColumn("id", table: "u"))
                .join(SQLAlias(roles, as: SQLIdentifier("r")), method: SQLJoinMethod.left, on: SQLColumn("id", table: "r"), .equal, SQLColumn("role_id", table: "ur"))
                .orderBy(SQLColumn("email_key", table: "u"))
            if let id { query = query.where(SQLColumn("id", table: "u"), .equal, SQLBind(id)) }
            var views: [UserView] = []
            for row in try await query.all() {
                let user = try row.decode(model: UserRow.self)
                let role = try row.decode(column: "role", as: String?.self)
                if views.last?.id == user.id {
                    if let role { views[views.count - 1].roles.append(role) }
                } else {
                    views.append(UserView(id: user.id, email: user.email, name: user.name, status: user.status, roles: role.map { [$0] } ?? [],
                                          lockedUntil: user.lockedUntil, lastLoginAt: user.lastLoginAt, createdAt: user.createdAt))
                }
            }
            return views.map { var view = $0; view.roles.sort(); return view }
        }
    }

    /// Changes a user's name or status. Disabling ends the user's sessions; the last active
    /// tenant_admin cannot be disabled.
    package func updateUser(_ id: String, in scope: TenantScope, name: String?, status: String?, by actor: AuditActor) async throws -> UserView {
        let audit = self.audit
        if let status, !["active", "disabled"].contains(status) {
            throw IdentityError.invalidInput([.init(field: "status", message: "must be active or disabled")])
        }
        if let name, let message = Self.userName.problem(with: name) {
            throw IdentityError.invalidInput([.init(field: "name", message: message)])
        }
        let users = try scope.table("users"), sessions = try scope.table("sessions")
        let now = Timestamp.now()
        try await scope.transaction { database in
            guard try await database.select().column("id").from(users).where("id", .equal, id).first() != nil else {
                throw IdentityError.userNotFound
            }
            try await Grantor.of(actor, in: database, scope: scope)?.mayManage(user: id, in: database, scope: scope)
            if status == "disabled" { try await Self.refuseLosingLastAdmin(database, scope: scope, user: id) }
            var update = database.update(users).set("updated_at", to: now)
            if let name { update = update.set("name", to: name.trimmingCharacters(in: .whitespaces)) }
            if let status { update = update.set("status", to: status) }
            try await update.where("id", .equal, id).run()
            if status == "disabled" {
                try await database.update(sessions).set("revoked_at", to: now).set("revoked_reason", to: "user disabled")
                    .where("user_id", .equal, id).where("revoked_at", .is, SQLLiteral.null).run()
            }
            var changed: [String: String] = [:]
            if name != nil { changed["fields"] = status != nil ? "name,status" : "name" } else if status != nil { changed["fields"] = "status" }
            if let status { changed["status"] = status }
            try await audit.append(actor.record("update", resourceType: "user", resourceID: id, details: changed), in: database, scope: scope)
        }
        principals.evict(tenant: scope.tenant.slug, user: id)
        return try await user(id, in: scope)
    }

    /// Clears a lockout before it runs out.
    package func unlock(_ id: String, in scope: TenantScope, by actor: AuditActor) async throws -> UserView {
        let users = try scope.table("users")
        let audit = self.audit
        try await scope.transaction { database in
            try await Grantor.of(actor, in: database, scope: scope)?.mayManage(user: id, in: database, scope: scope)
            try await database.update(users).set("locked_until", to: SQLLiteral.null).set("failed_attempts", to: 0)
                .set("updated_at", to: Timestamp.now()).where("id", .equal, id).run()
            try await audit.append(actor.record("unlock", resourceType: "user", resourceID: id), in: database, scope: scope)
        }
        return try await user(id, in: scope)
    }

    /// Grants a role; takes effect on the user's next request on this node.
    package func assignRole(_ roleName: String, to id: String, in scope: TenantScope, by actor: AuditActor) async throws -> UserView {
        let audit = self.audit
        let users = try scope.table("users"), roles = try scope.table("roles"), userRoles = try scope.table("user_roles")
        try await scope.transaction { database in
            guard try await database.select().column("id").from(users).where("id", .equal, id).first() != nil else { throw IdentityError.userNotFound }
            guard let role = try await database.select().column("id").from(roles).where("name", .equal, roleName).first() else {
                throw IdentityError.roleNotFound(roleName)
            }
            let roleID = try role.decode(column: "id", as: String.self)
            if let grantor = try await Grantor.of(actor, in: database, scope: scope) {
                try grantor.mayGrant(roleID: roleID, named: roleName, permissions: try await Grantor.permissions(ofRole: roleID, in: database, scope: scope), to: id)
                try await grantor.mayManage(user: id, in: database, scope: scope)
            }
            if try await database.select().column("role_id").from(userRoles).where("user_id", .equal, id).where("role_id", .equal, roleID).first() == nil {
                try await database.insert(into: userRoles).columns("user_id", "role_id", "granted_at")
                    .values(SQLBind(id), SQLBind(roleID), SQLBind(Timestamp.now())).run()
                try await audit.append(actor.record("permission_change", resourceType: "user", resourceID: id,
                                                    details: ["granted_role": roleName]), in: database, scope: scope)
            }
        }
        principals.evict(tenant: scope.tenant.slug, user: id)
        return try await user(id, in: scope)
    }

    /// Revokes a role; the last active tenant_admin keeps theirs.
    package func revokeRole(_ roleName: String, from id: String, in scope: TenantScope, by actor: AuditActor) async throws -> UserView {
        let audit = self.audit
        let roles = try scope.table("roles"), userRoles = try scope.table("user_roles")
        try await scope.transaction { database in
            guard let role = try await database.select().column("id").from(roles).where("name", .equal, roleName).first() else {
                throw IdentityError.roleNotFound(roleName)
            }
            let roleID = try role.decode(column: "id", as: String.self)
            if let grantor = try await Grantor.of(actor, in: database, scope: scope) {
                try grantor.mayGrant(roleID: roleID, named: roleName, permissions: [], to: id)
                try await grantor.mayManage(user: id, in: database, scope: scope)
            }
            if roleID == Self.tenantAdminRoleID { try await Self.refuseLosingLastAdmin(database, scope: scope, user: id) }
            try await database.delete(from: userRoles).where("user_id", .equal, id).where("role_id", .equal, roleID).run()
            try await audit.append(actor.record("permission_change", resourceType: "user", resourceID: id,
                                                details: ["revoked_role": roleName]), in: database, scope: scope)
        }
        principals.evict(tenant: scope.tenant.slug, user: id)
        return try await user(id, in: scope)
    }

    /// Throws `lastTenantAdmin` when no other active tenant_admin would remain without `user`.
    private static func refuseLosingLastAdmin(_ database: any SQLDatabase, scope: TenantScope, user: String) async throws {
        if database.dialect.name == "postgresql", let schema = scope.schema {
            // Two administrators demoting each other at once must not both succeed.
            try await database.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "ward.admins." + schema)))").run()
        }
        let users = try scope.table("users"), userRoles = try scope.table("user_roles")
        let others = try await database.raw("""
            SELECT COUNT(*) AS admins FROM \(userRoles) ur JOIN \(users) u ON u.id = ur.user_id
            WHERE ur.role_id = \(bind: tenantAdminRoleID) AND u.status = 'active' AND u.id <> \(bind: user)
            """).first()?.decode(column: "admins", as: Int.self) ?? 0
        if others == 0 {
            let isAdmin = try await database.raw("""
                SELECT 1 AS yes FROM \(userRoles) WHERE user_id = \(bind: user) AND role_id = \(bind: tenantAdminRoleID)
                """).first() != nil
            if isAdmin { throw IdentityError.lastTenantAdmin }
        }
    }

    // MARK: Roles

    /// Every role of the tenant with its permissions.
    package func roles(in scope: TenantScope) async throws -> [RoleView] {
        let roles = try scope.table("roles"), rolePermissions = try scope.table("role_permissions")
        return try await scope.read { database in
            var views: [RoleView] = []
            for row in try await database.raw("""
                SELECT r.id, r.name, r.description, r.built_in, r.requires_mfa, rp.permission FROM \(roles) r
                LEFT JOIN \(rolePermissions) rp ON rp.role_id = r.id ORDER BY r.name, rp.permission
                """).all() {
                let id = try row.decode(column: "id", as: String.self)
                let permission = try row.decode(column: "permission", as: String?.self)
                if views.last?.id == id {
                    if let permission { views[views.count - 1].permissions.append(permission) }
                } else {
                    views.append(RoleView(id: id, name: try row.decode(column: "name", as: String.self),
                                          description: try row.decode(column: "description", as: String.self),
                                          builtIn: try row.decode(column: "built_in", as: Int.self) != 0,
                                          requiresSecondFactor: try row.decode(column: "requires_mfa", as: Int.self) != 0,
                                          permissions: permission.map { [$0] } ?? []))
                }
            }
            return views
        }
    }

    /// Creates a custom role.
    package func createRole(in scope: TenantScope, name: String, description: String, permissions: [String], requiresSecondFactor: Bool = false,
                            by actor: AuditActor) async throws -> RoleView {
        let audit = self.audit
        var errors: [Problem.FieldError] = []
        if let message = ParameterFormat.roleName.problem(with: name) { errors.append(.init(field: "name", message: message)) }
        Self.roleDescription.check(description, "description", into: &errors)
        if !errors.isEmpty { throw IdentityError.invalidInput(errors) }
        try validate(permissions)
        let id = UUIDv7.id(), now = Timestamp.now()
        let roles = try scope.table("roles"), rolePermissions = try scope.table("role_permissions")
        try await scope.transaction { database in
            try await Grantor.of(actor, in: database, scope: scope)?.mayHandOut(Set(permissions), what: "these permissions")
            if try await database.select().column("id").from(roles).where("name", .equal, name).first() != nil {
                throw IdentityError.roleNameTaken(name)
            }
            try await database.insert(into: roles).columns("id", "name", "description", "built_in", "requires_mfa", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(name), SQLBind(description), SQLBind(0), SQLBind(requiresSecondFactor ? 1 : 0),
                        SQLBind(now), SQLBind(now)).run()
            for permission in Set(permissions) {
                try await database.insert(into: rolePermissions).columns("role_id", "permission").values(SQLBind(id), SQLBind(permission)).run()
            }
            try await audit.append(actor.record("permission_change", resourceType: "role", resourceID: name,
                                                details: ["permissions": Set(permissions).sorted().joined(separator: ",")]), in: database, scope: scope)
        }
        guard let created = try await self.roles(in: scope).first(where: { $0.id == id }) else { throw IdentityError.roleNotFound(name) }
        return created
    }

    /// Replaces a custom role's permissions; every session of the tenant re-reads its grants.
    package func setPermissions(_ permissions: [String], ofRole name: String, in scope: TenantScope, by actor: AuditActor) async throws -> RoleView {
        let audit = self.audit
        try validate(permissions)
        let roles = try scope.table("roles"), rolePermissions = try scope.table("role_permissions")
        try await scope.transaction { database in
            guard let role = try await database.select().columns("id", "built_in").from(roles).where("name", .equal, name).first() else {
                throw IdentityError.roleNotFound(name)
            }
            if try role.decode(column: "built_in", as: Int.self) != 0 { throw IdentityError.builtInRole }
            try await Grantor.of(actor, in: database, scope: scope)?.mayHandOut(Set(permissions), what: "these permissions")
            let id = try role.decode(column: "id", as: String.self)
            try await database.delete(from: rolePermissions).where("role_id", .equal, id).run()
            for permission in Set(permissions) {
                try await database.insert(into: rolePermissions).columns("role_id", "permission").values(SQLBind(id), SQLBind(permission)).run()
            }
            try await database.update(roles).set("updated_at", to: Timestamp.now()).where("id", .equal, id).run()
            try await audit.append(actor.record("permission_change", resourceType: "role", resourceID: name,
                                                details: ["permissions": Set(permissions).sorted().joined(separator: ",")]), in: database, scope: scope)
        }
        principals.evict(tenant: scope.tenant.slug)
        guard let updated = try await self.roles(in: scope).first(where: { $0.name == name }) else { throw IdentityError.roleNotFound(name) }
        return updated
    }

    /// A user's name: one line of 1 to 200 characters.
    package static let userName = TextField.singleLine(max: 200)
    /// A custom role's description.
    package static let roleDescription = TextField.freeText(max: 500)

    /// The most roles one request may grant: a bound on the work one request can cause.
    package static let maximumRolesPerRequest = 20
    /// The most permissions one request may list (each at most twice).
    /// At most twice as many permissions as are defined (`defined`) in one request.
    package static func maximumPermissionsPerRequest(defined: Int) -> Int { defined * 2 }

    private func validate(_ permissions: [String]) throws {
        guard permissions.count <= Self.maximumPermissionsPerRequest(defined: catalogue.permissions.count) else {
            throw IdentityError.invalidInput([.init(field: "permissions", message: "lists more permissions than exist")])
        }
        let unknown = permissions.filter { !catalogue.contains($0) }
        if !unknown.isEmpty {
            throw IdentityError.invalidInput(unknown.map { .init(field: "permissions", message: "unknown permission \($0)") })
        }
    }

}
