import HTTPTypes
package import Hummingbird
package import WardHTTP

/// Who did something and from where: the part of an audit event the request supplies.
package struct AuditActor: Sendable {
    package var type: AuditEvent.ActorType
    package var id: String?
    package var name: String?
    package var roles: [String]
    package var clientAddress: String?
    package var userAgent: String?
    package var requestID: String?

    package init(type: AuditEvent.ActorType, id: String? = nil, name: String? = nil, roles: [String] = [],
                 clientAddress: String? = nil, userAgent: String? = nil, requestID: String? = nil) {
        self.type = type
        self.id = id
        self.name = name
        self.roles = roles
        self.clientAddress = clientAddress
        self.userAgent = userAgent
        self.requestID = requestID
    }

    /// Ward itself (jobs, the command line).
    package static let system = AuditActor(type: .system, name: "ward")

    /// The request's caller: its principal when authenticated, else an anonymous client.
    package init(_ context: WardRequestContext, userAgent: String?) {
        if let principal = context.principal {
            self.init(type: .user, id: principal.userID, name: principal.displayName, roles: principal.roles,
                      clientAddress: context.clientAddress, userAgent: userAgent, requestID: context.requestID)
        } else if let admin = context.platformAdminID {
            self.init(type: .platformAdmin, id: admin, clientAddress: context.clientAddress, userAgent: userAgent, requestID: context.requestID)
        } else {
            self.init(type: .user, clientAddress: context.clientAddress, userAgent: userAgent, requestID: context.requestID)
        }
    }

    /// The request's caller, with the request's user agent.
    package init(_ request: Request, _ context: WardRequestContext) {
        self.init(context, userAgent: request.headers.value(.userAgent))
    }

    /// An event by this actor.
    package func record(
        _ action: String, resourceType: String? = nil, resourceID: String? = nil, patientID: String? = nil,
        outcome: AuditEvent.Outcome = .success, reason: String? = nil, details: [String: String] = [:]
    ) -> AuditRecord {
        AuditRecord(
            actorType: type, actorID: id, actorName: name, actorRoles: roles, action: action, resourceType: resourceType,
            resourceID: resourceID, patientID: patientID, outcome: outcome, reason: reason, clientAddress: clientAddress,
            userAgent: userAgent.map { String($0.prefix(256)) }, requestID: requestID, details: details
        )
    }
}
