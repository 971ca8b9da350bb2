/// What a user may do, granted through roles. The catalogue is defined in code; each module's
/// migration adds its permissions to the tenant's `permissions` table.
package enum Permission: String, CaseIterable, Sendable, Codable {
    case patientsRead = "patients:read"
    case patientsWrite = "patients:write"
    case breakGlass = "patients:break_glass"
    case appointmentsRead = "appointments:read"
    case appointmentsWrite = "appointments:write"
    case prescriptionsRead = "prescriptions:read"
    case prescriptionsWrite = "prescriptions:write"
    case billingRead = "billing:read"
    case billingWrite = "billing:write"
    case parkingRead = "parking:read"
    case parkingWrite = "parking:write"
    case reportsRead = "reports:read"
    case auditRead = "audit:read"
    case usersManage = "users:manage"
    case rolesManage = "roles:manage"

    /// What the permission allows, for the API and the README.
    package var summary: String {
        switch self {
        case .patientsRead: "read patient records and search patients"
        case .patientsWrite: "create, update and archive patient records"
        case .breakGlass: "open a patient's record in an emergency, with a reason (audited, reviewed)"
        case .appointmentsRead: "read appointments and practitioners' schedules"
        case .appointmentsWrite: "book, move and cancel appointments"
        case .prescriptionsRead: "read prescriptions"
        case .prescriptionsWrite: "issue and cancel prescriptions"
        case .billingRead: "read invoices and payments"
        case .billingWrite: "issue invoices and record payments"
        case .parkingRead: "read parking facilities and bookings"
        case .parkingWrite: "manage parking spots, vehicles and bookings"
        case .reportsRead: "read daily and periodic reports"
        case .auditRead: "read the audit trail"
        case .usersManage: "create, update and disable users; assign roles"
        case .rolesManage: "create and edit custom roles"
        }
    }
}
