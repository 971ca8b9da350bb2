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

    package init(
        userID: String, tenant: String, sessionID: String, displayName: String, email: String,
        roles: [String], permissions: Set<String>, sessionExpiresAt: Date
    ) {
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
