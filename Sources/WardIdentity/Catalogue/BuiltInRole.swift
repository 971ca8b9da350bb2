/// The roles every tenant starts with. Tenants may add their own; built-in roles cannot be
/// deleted. A test checks the seeded tables match this list.
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

    package var permissions: Set<Permission> {
        switch self {
        case .tenantAdmin:
            Set(Permission.allCases)
        case .doctor:
            [.patientsRead, .patientsWrite, .breakGlass, .appointmentsRead, .appointmentsWrite, .prescriptionsRead, .prescriptionsWrite, .reportsRead]
        case .nurse:
            [.patientsRead, .patientsWrite, .breakGlass, .appointmentsRead, .appointmentsWrite, .prescriptionsRead]
        case .receptionist:
            [.patientsRead, .patientsWrite, .appointmentsRead, .appointmentsWrite, .billingRead]
        case .billingClerk:
            [.patientsRead, .billingRead, .billingWrite, .reportsRead]
        case .auditor:
            [.auditRead, .reportsRead]
        case .parkingAttendant:
            [.parkingRead, .parkingWrite]
        }
    }
}
