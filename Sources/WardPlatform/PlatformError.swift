package import WardCore

/// What the platform module refuses that is not a tenant's state (`TenantError`), as problem
/// documents.
package enum PlatformError: Error, ProblemConvertible, Equatable {
    /// A slug of the right form that Ward keeps for itself (a subdomain an operator runs another
    /// service on, a name of one of its planes): taken, as if by a tenant.
    case reservedSlug(String)
    /// Fields a clinic's platform settings (its CORS origins) refuse.
    case invalid([Problem.FieldError])
    /// A provisioning request naming a shard the control plane does not record (`ward shard list`).
    case unknownShard(String, known: [String])

    package var problem: Problem {
        switch self {
        case .invalid(let errors):
            Problem(status: 422, title: "Invalid settings", detail: "Some fields are invalid.", errors: errors)
        case .unknownShard(let shard, let known):
            Problem(status: 404, title: "Unknown shard", detail: "No shard is named '\(shard)'; this installation has \(known.joined(separator: ", ")).",
                    errors: [.init(field: "shard", message: "is not a shard of this installation")])
        case .reservedSlug(let slug):
            Problem(status: 409, title: "Slug reserved", detail: "The slug '\(slug)' is reserved; choose another.",
                    errors: [.init(field: "slug", message: "is reserved")])
        }
    }
}
