import WardHTTP

/// A permission a module defines: `noun:verb`, with what it allows in words a clinic's
/// administrator understands.
package struct PermissionDefinition: Sendable, Hashable {
    package let name: String
    package let summary: String

    package init(_ name: String, _ summary: String) {
        precondition(name.wholeMatch(of: /[a-z_]+:[a-z_]+/) != nil, "permission \(name) is not noun:verb in snake case")
        self.name = name
        self.summary = summary
    }
}

/// The roles every tenant starts with. Tenants may add their own; built-in roles cannot be
/// edited or deleted, and what they hold is what the modules grant them (`roleGrants`).
package enum BuiltInRole: String, CaseIterable, Sendable {
    case tenantAdmin = "tenant_admin"
    case doctor
    case nurse
    case receptionist
    case billingClerk = "billing_clerk"
    case auditor
    case parkingAttendant = "parking_attendant"

    /// The role's id in every tenant.
    package var id: String { "builtin-" + rawValue.replacingOccurrences(of: "_", with: "-") }

    package var summary: String {
        switch self {
        case .tenantAdmin: "runs the clinic's Ward: every permission"
        case .doctor: "clinical care: patients, appointments, prescriptions, reports"
        case .nurse: "clinical care without prescribing"
        case .receptionist: "front desk: registration, appointments, invoices seen"
        case .billingClerk: "invoices and payments"
        case .auditor: "reviews the audit trail"
        case .parkingAttendant: "campus parking"
        }
    }
}

/// Every permission of the registered modules and what the built-in roles hold: the one list
/// roles are checked against, tenants are seeded from and the document enumerates.
package struct PermissionCatalogue: Sendable {
    /// The permissions, in module order.
    package let permissions: [PermissionDefinition]
    private let grants: [BuiltInRole: Set<String>]

    package init(permissions: [PermissionDefinition], grants: [BuiltInRole: Set<String>]) {
        self.permissions = permissions
        var grants = grants
        grants[.tenantAdmin] = Set(permissions.map(\.name))
        self.grants = grants
    }

    /// The catalogue of `modules`; throws when two define one permission, or a grant names
    /// a permission none defines.
    package init(modules: [any WardModule.Type]) throws {
        var permissions: [PermissionDefinition] = [], grants: [BuiltInRole: Set<String>] = [:]
        for module in modules {
            for permission in module.permissions {
                if permissions.contains(where: { $0.name == permission.name }) {
                    throw ModuleError.conflict("\(module.name) defines the permission \(permission.name), which another module defines")
                }
                permissions.append(permission)
            }
            for (role, names) in module.roleGrants { grants[role, default: []].formUnion(names) }
        }
        let known = Set(permissions.map(\.name))
        for (role, names) in grants {
            if let unknown = names.subtracting(known).sorted().first {
                throw ModuleError.conflict("\(role.rawValue) is granted \(unknown), which no module defines")
            }
        }
        self.init(permissions: permissions, grants: grants)
    }

    /// The permission names.
    package var names: [String] { permissions.map(\.name) }

    /// Whether a module defines `name`.
    package func contains(_ name: String) -> Bool { permissions.contains { $0.name == name } }

    /// What `role` holds.
    package func permissions(of role: BuiltInRole) -> Set<String> { grants[role] ?? [] }
}

