import SQLKit
import WardAudit
import WardStorage
import WardKit

/// What the actor of a user or role change holds, read from the tenant's tables inside the
/// change's transaction, and the rules that keep anyone from handing out more than that.
///
/// Without them a custom role holding only `users:manage` could grant its holder
/// `tenant_admin`, and one holding only `roles:manage` could add any permission to its own
/// role. So nobody may grant a role, or put a permission in a role, that carries a permission
/// they do not hold; `tenant_admin` is granted, revoked and managed only by a tenant_admin;
/// nobody changes their own roles; and a user is managed (renamed, disabled, unlocked, given a
/// reset token) only by someone holding every permission that user holds, since a reset token
/// is the user's account. Ward itself (the command line, provisioning) is not bound.
struct Grantor {
    let userID: String?
    let permissions: Set<String>
    let isTenantAdmin: Bool

    /// The actor as the tenant's tables have them now.
    static func of(_ actor: AuditActor, in database: any SQLDatabase, scope: TenantScope) async throws -> Grantor? {
        guard actor.type == .user else { return nil }
        guard let id = actor.id else { throw IdentityError.beyondOwnPrivileges("Only a signed-in user may manage users and roles.") }
        let held = try await Holdings.of(user: id, in: database, scope: scope)
        return Grantor(userID: id, permissions: held.permissions, isTenantAdmin: held.isTenantAdmin)
    }

    /// Refuses giving a role with `permissions` (the role `roleID`) to `user`.
    func mayGrant(roleID: String, named name: String, permissions: Set<String>, to user: String?) throws {
        if let user, user == userID { throw IdentityError.beyondOwnPrivileges("You cannot change your own roles.") }
        if roleID == BuiltInRole.tenantAdmin.id, !isTenantAdmin {
            throw IdentityError.beyondOwnPrivileges("Only a tenant_admin may grant or revoke tenant_admin.")
        }
        try mayHandOut(permissions, what: "the role \(name)")
    }

    /// Refuses putting `permissions` into a role.
    func mayHandOut(_ permissions: Set<String>, what: String) throws {
        let missing = permissions.subtracting(self.permissions).sorted()
        if !missing.isEmpty {
            throw IdentityError.beyondOwnPrivileges("You cannot give \(what): it carries \(missing.joined(separator: ", ")), which you do not hold.")
        }
    }

    /// Refuses acting on `user` when they hold more than the actor.
    func mayManage(user: String, in database: any SQLDatabase, scope: TenantScope) async throws {
        guard user != userID else { return }
        let target = try await Holdings.of(user: user, in: database, scope: scope)
        if target.isTenantAdmin, !isTenantAdmin { throw IdentityError.beyondOwnPrivileges("Only a tenant_admin may manage a tenant_admin.") }
        let missing = target.permissions.subtracting(permissions).sorted()
        if !missing.isEmpty {
            throw IdentityError.beyondOwnPrivileges("This user holds \(missing.joined(separator: ", ")), which you do not hold.")
        }
    }

    /// The permissions of a role, by id.
    static func permissions(ofRole roleID: String, in database: any SQLDatabase, scope: TenantScope) async throws -> Set<String> {
        let grants = try scope.table("role_permissions")
        let rows = try await database.select().column("permission").from(grants).where("role_id", .equal, roleID).all()
        return Set(try rows.map { try $0.decode(column: "permission", as: String.self) })
    }
}

/// What one user holds through their roles.
private struct Holdings {
    var permissions: Set<String> = []
    var isTenantAdmin = false

    static func of(user: String, in database: any SQLDatabase, scope: TenantScope) async throws -> Holdings {
        let userRoles = try scope.table("user_roles"), grants = try scope.table("role_permissions")
        var holdings = Holdings()
        for row in try await database.raw("""
            SELECT ur.role_id, rp.permission FROM \(userRoles) ur LEFT JOIN \(grants) rp ON rp.role_id = ur.role_id
            WHERE ur.user_id = \(bind: user)
            """).all() {
            if try row.decode(column: "role_id", as: String.self) == BuiltInRole.tenantAdmin.id { holdings.isTenantAdmin = true }
            if let permission = try row.decode(column: "permission", as: String?.self) { holdings.permissions.insert(permission) }
        }
        return holdings
    }
}
