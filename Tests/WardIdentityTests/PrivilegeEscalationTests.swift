import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WardAudit
import WardIdentity
import WardKit
import WardServer
import WardTestSupport

/// Nobody hands out more than they hold: every combination of the management permissions, and
/// two fuller holders, against every built-in role.
@Suite("Privilege escalation")
struct PrivilegeEscalationTests {
    /// The actors: custom roles holding the management permissions alone and together, a clinic
    /// manager holding a doctor's permissions with users:manage and roles:manage, and a tenant_admin.
    static let catalogue = try! PermissionCatalogue(modules: WardModules.registered)
    static let actors: [(role: String, permissions: Set<String>)] = [
        ("user_manager", ["users:manage"]),
        ("role_manager", ["roles:manage"]),
        ("user_and_role_manager", ["users:manage", "roles:manage"]),
        ("clinic_manager", catalogue.permissions(of: .doctor).union(["users:manage", "roles:manage"])),
        ("tenant_admin", Set(catalogue.names)),
    ]

    @Test("a role is granted, and a permission put in a role, only by someone holding all it carries; tenant_admin only by a tenant_admin; never one's own roles",
          arguments: TestBackend.allCases)
    func grants(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("seed@acme.test", roles: [])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                var found: [(role: String, permissions: Set<String>, id: String)] = []
                var colleagues: [String: String] = [:]
                for actor in Self.actors {
                    if actor.role != "tenant_admin" {
                        _ = try await node.services.identity.createRole(in: scope, name: actor.role, description: "", permissions: actor.permissions.sorted(), by: .system)
                    }
                    found.append((actor.role, actor.permissions, try await node.user("\(actor.role)@acme.test", roles: [actor.role])))
                    for role in BuiltInRole.allCases {
                        colleagues["\(actor.role).\(role.rawValue)"] = try await node.user("\(actor.role).\(role.rawValue)@acme.test", roles: [])
                    }
                }
                let actors = found, colleagueIDs = colleagues
                try await node.test { client in
                    for actor in actors {
                        let token = try await client.tokens("\(actor.role)@acme.test").access
                        let canManageUsers = actor.permissions.contains("users:manage"), canManageRoles = actor.permissions.contains("roles:manage")
                        for role in BuiltInRole.allCases {
                            let carried = Self.catalogue.permissions(of: role)
                            let allowed = carried.isSubset(of: actor.permissions) && (role != .tenantAdmin || actor.role == "tenant_admin")
                            let label = "\(actor.role) → \(role.rawValue)"

                            // Granting the role to a colleague who holds nothing.
                            let colleague = try #require(colleagueIDs["\(actor.role).\(role.rawValue)"])
                            let granted = try await client.call(.put, "/api/v1/users/\(colleague)/roles/\(role.rawValue)", token: token)
                            #expect(granted.status == (canManageUsers && allowed ? .ok : .forbidden), "\(label): grant answered \(granted.status)")

                            // Creating a user who holds it.
                            let created = try await client.call(.post, "/api/v1/users", token: token, json: [
                                "email": "new.\(actor.role).\(role.rawValue)@acme.test", "name": "New Colleague", "password": goodPassword, "roles": [role.rawValue],
                            ])
                            #expect(created.status == (canManageUsers && allowed ? .created : .forbidden), "\(label): create answered \(created.status)")

                            // Making a custom role of its permissions.
                            let made = try await client.call(.post, "/api/v1/roles", token: token, json: [
                                "name": "copy_\(actor.role.prefix(8))_\(role.rawValue.prefix(8))", "permissions": carried.sorted(),
                            ])
                            let mayCopy = carried.isSubset(of: actor.permissions)
                            #expect(made.status == (canManageRoles && mayCopy ? .created : .forbidden), "\(label): role copy answered \(made.status)")
                        }

                        // Nobody changes their own roles.
                        let me = actor.id
                        #expect(try await client.call(.put, "/api/v1/users/\(me)/roles/receptionist", token: token).status == .forbidden)

                        // Adding a permission one lacks to one's own role.
                        if actor.role != "tenant_admin" {
                            let widened = try await client.call(.put, "/api/v1/roles/\(actor.role)/permissions", token: token,
                                                                json: ["permissions": actor.permissions.union(["audit:read"]).sorted()])
                            #expect(widened.status == .forbidden, "\(actor.role): widening its own role answered \(widened.status)")
                        }
                    }
                }
                // Every refusal of a grant is in the trail as denied.
                var filter = AuditStore.Filter()
                filter.action = "permission_change"
                filter.outcome = "denied"
                let denied = try await AuditStore.events(in: scope, filter: filter, before: nil, limit: 500)
                #expect(denied.count >= 20)
            }
        }
    }

    @Test("a user holding less may not rename, disable, unlock or reset the password of one holding more", arguments: TestBackend.allCases)
    func managingTheMorePrivileged(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let admin = try await node.user("admin@acme.test", roles: ["tenant_admin"])
                let doctor = try await node.user("doctor@acme.test", roles: ["doctor"])
                let clerk = try await node.user("clerk@acme.test", roles: ["billing_clerk"])
                let scope = try await node.services.storage.tenants.activeScope(slug: "acme")
                _ = try await node.services.identity.createRole(in: scope, name: "front_office", description: "",
                                                                permissions: ["users:manage", "patients:read", "billing:read", "billing:write", "reports:read"], by: .system)
                try await node.user("office@acme.test", roles: ["front_office"])
                try await node.test { client in
                    let office = try await client.tokens("office@acme.test").access
                    for target in [admin, doctor] {
                        #expect(try await client.call(.post, "/api/v1/users/\(target)/password-reset", token: office).status == .forbidden)
                        #expect(try await client.call(.patch, "/api/v1/users/\(target)", token: office, json: ["status": "disabled"]).status == .forbidden)
                        #expect(try await client.call(.post, "/api/v1/users/\(target)/unlock", token: office).status == .forbidden)
                        #expect(try await client.call(.delete, "/api/v1/users/\(target)/roles/doctor", token: office).status == .forbidden)
                    }
                    // A clerk holds nothing the office lacks: the office manages them.
                    #expect(try await client.call(.post, "/api/v1/users/\(clerk)/password-reset", token: office).status == .created)
                    #expect(try await client.call(.patch, "/api/v1/users/\(clerk)", token: office, json: ["name": "Clerk Renamed"]).status == .ok)
                }
            }
        }
    }
}
