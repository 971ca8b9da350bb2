import HTTPTypes
package import WardCore
package import Hummingbird

/// How a request names its tenant: the `X-Tenant-ID` header, else the subdomain of the base
/// domain (`acme.ward.example` → `acme`).
package struct TenantNaming: Sendable {
    package let baseDomain: String?

    package init(baseDomain: String?) {
        self.baseDomain = baseDomain
    }

    /// The slug the request names, header first; nil when it names none. A header that is not
    /// a slug as written (empty, upper case, too long) is refused with 400, as any parameter
    /// of the wrong form is, rather than read as no tenant or as another spelling.
    package func slug(of request: Request) throws -> String? {
        if let header = request.headers.value(Self.header) {
            if let message = ParameterFormat.slug.problem(with: header) { throw InvalidTenantHeader(message: message) }
            return header
        }
        guard let baseDomain, let authority = request.head.authority else { return nil }
        let host = authority.split(separator: ":").first.map { $0.lowercased() } ?? ""
        let suffix = "." + baseDomain
        guard host.hasSuffix(suffix) else { return nil }
        let label = host.dropLast(suffix.count)
        return label.isEmpty || label.contains(".") ? nil : String(label)
    }

    static let header = HTTPField.Name("X-Tenant-ID")!
}

/// An `X-Tenant-ID` that is not a tenant slug: 400, naming the header.
package struct InvalidTenantHeader: Error, ProblemConvertible {
    let message: String
    package var problem: Problem {
        Problem(status: 400, title: "Invalid header", detail: "X-Tenant-ID \(message).", errors: [.init(field: "X-Tenant-ID", message: message)])
    }
}

/// A tenant route reached without naming a tenant.
package enum TenancyError: Error, ProblemConvertible {
    case missing

    package var problem: Problem {
        Problem(status: 400, title: "Tenant required", detail: "Name the tenant in the X-Tenant-ID header or the host's subdomain.")
    }
}
