package import WardCore

/// Why an identity operation was refused. Authentication failures share one problem so that an
/// unknown email and a wrong password cannot be told apart.
package enum IdentityError: Error, Equatable, ProblemConvertible {
    case invalidCredentials
    case secondFactorRequired
    case locked(retryAfterSeconds: Int)
    case throttled(retryAfterSeconds: Int)
    case unauthenticated(String)
    case forbidden(String)
    /// A grant or change beyond what the actor holds: the reason says which.
    case beyondOwnPrivileges(String)
    case wrongTenant
    case invalidPassword([String])
    case invalidInput([Problem.FieldError])
    case emailTaken
    case userNotFound
    case roleNotFound(String)
    case roleNameTaken(String)
    case lastTenantAdmin
    case builtInRole
    case secondFactorAlreadyEnrolled
    case secondFactorNotStarted

    package var problem: Problem {
        switch self {
        case .invalidCredentials:
            Problem(status: 401, title: "Invalid credentials", detail: "The tenant, email or password is wrong.")
        case .secondFactorRequired:
            Problem(status: 401, title: "Second factor required", detail: "Send the current code from your authenticator app as `totp`.",
                    type: "https://ward.example/problems/totp-required")
        case .locked:
            Problem(status: 429, title: "Account locked", detail: "Too many failed logins; try again later or ask an administrator to unlock the account.")
        case .throttled:
            Problem(status: 429, title: "Too many login attempts", detail: "Too many login attempts from this address; try again later.")
        case .unauthenticated(let reason):
            Problem(status: 401, title: "Not authenticated", detail: reason)
        case .forbidden(let permission):
            Problem(status: 403, title: "Forbidden", detail: "This action needs the permission \(permission).")
        case .beyondOwnPrivileges(let reason):
            Problem(status: 403, title: "Forbidden", detail: reason)
        case .wrongTenant:
            Problem(status: 403, title: "Forbidden", detail: "The access token belongs to another tenant.")
        case .invalidPassword(let violations):
            Problem(status: 422, title: "Password not accepted", detail: "The password " + violations.joined(separator: "; ") + ".",
                    errors: violations.map { Problem.FieldError(field: "password", message: "The password \($0).") })
        case .invalidInput(let errors):
            Problem(status: 422, title: "Invalid input", detail: "Some fields are invalid.", errors: errors)
        case .emailTaken:
            Problem(status: 409, title: "Email in use", detail: "Another user of this tenant has this email.")
        case .userNotFound:
            Problem(status: 404, title: "User not found")
        case .roleNotFound(let role):
            Problem(status: 404, title: "Role not found", detail: "No role '\(role)' in this tenant.")
        case .roleNameTaken(let role):
            Problem(status: 409, title: "Role exists", detail: "This tenant already has a role '\(role)'.",
                    errors: [.init(field: "name", message: "a role with this name exists")])
        case .lastTenantAdmin:
            Problem(status: 409, title: "Last administrator", detail: "The tenant's last active tenant_admin cannot be removed or disabled.")
        case .secondFactorAlreadyEnrolled:
            Problem(status: 409, title: "Second factor enrolled", detail: "A second factor is already enrolled for this account.")
        case .secondFactorNotStarted:
            Problem(status: 409, title: "No enrolment in progress", detail: "Start with POST /api/v1/auth/totp/enrol.")
        case .builtInRole:
            Problem(status: 409, title: "Built-in role", detail: "Built-in roles cannot be changed; create a custom role instead.")
        }
    }

    /// Seconds to put in `Retry-After`, when the error has them.
    package var retryAfter: Int? {
        switch self {
        case .locked(let seconds), .throttled(let seconds): seconds
        default: nil
        }
    }
}
