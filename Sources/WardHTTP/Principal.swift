package import Foundation

/// Who is making a request: a tenant user with the roles and permissions they hold now.
package struct Principal: Sendable, Equatable {
    package let userID: String
    package let tenant: String
    package let sessionID: String
    package let displayName: String
    package let email: String
    package let roles: [String]
    package let permissions: Set<String>
    /// When the session ends in any case (the absolute limit).
    package let sessionExpiresAt: Date
    /// A role of the user requires a second factor the user has not enrolled: until they do,
    /// they hold no permission.
    package let secondFactorMissing: Bool

    package init(
        userID: String, tenant: String, sessionID: String, displayName: String, email: String,
        roles: [String], permissions: Set<String>, sessionExpiresAt: Date, secondFactorMissing: Bool = false
    ) {
        self.secondFactorMissing = secondFactorMissing
        self.userID = userID
        self.tenant = tenant
        self.sessionID = sessionID
        self.displayName = displayName
        self.email = email
        self.roles = roles
        self.permissions = permissions
        self.sessionExpiresAt = sessionExpiresAt
    }
}
