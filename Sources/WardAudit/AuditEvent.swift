import Crypto
import Foundation
package import OpenAPIKit
import WardCore
package import WardHTTP

/// One audited action. Details never hold clinical values: only ids, counts and field names.
package struct AuditEvent: Sendable, Codable, Equatable, APIResponseBody {
    package enum ActorType: String, Sendable, Codable, StringEnumeration { case user, platformAdmin = "platform_admin", system }
    package enum Outcome: String, Sendable, Codable, StringEnumeration { case success, denied, error }

    package var id: String
    package var seq: Int64
    package var occurredAt: String
    package var actorType: ActorType
    package var actorID: String?
    package var actorName: String?
    package var actorRoles: [String]
    package var action: String
    package var resourceType: String?
    package var resourceID: String?
    package var patientID: String?
    package var outcome: Outcome
    package var reason: String?
    package var clientAddress: String?
    package var userAgent: String?
    package var requestID: String?
    package var details: [String: String]
    package var prevHash: String
    package var hash: String

    enum CodingKeys: String, CodingKey {
        case id, seq, action, outcome, reason, details, hash
        case occurredAt = "occurred_at", actorType = "actor_type", actorID = "actor_id", actorName = "actor_name"
        case actorRoles = "actor_roles", resourceType = "resource_type", resourceID = "resource_id", patientID = "patient_id"
        case clientAddress = "client_address", userAgent = "user_agent", requestID = "request_id", prevHash = "prev_hash"
    }

    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["occurred_at": .dateTime] }

    /// The hash before the first event of a tenant.
    package static let genesisHash = String(repeating: "0", count: 64)

    /// SHA-256 over the canonical encoding of every field but `hash`: each field as
    /// `name=value` (values JSON-escaped), in a fixed order, one per line.
    package func computedHash() -> String {
        var canonical = ""
        canonical.reserveCapacity(512)
        func field(_ name: String, _ value: String?, last: Bool = false) {
            canonical.append(name)
            canonical.append("=")
            if let value { JSONText.appendString(value, to: &canonical) } else { canonical.append("null") }
            if !last { canonical.append("\n") }
        }
        canonical.append("seq=\(seq)\n")
        field("id", id)
        field("occurred_at", occurredAt)
        field("actor_type", actorType.rawValue)
        field("actor_id", actorID)
        field("actor_name", actorName)
        field("actor_roles", actorRoles.joined(separator: ","))
        field("action", action)
        field("resource_type", resourceType)
        field("resource_id", resourceID)
        field("patient_id", patientID)
        field("outcome", outcome.rawValue)
        field("reason", reason)
        field("client_address", clientAddress)
        field("user_agent", userAgent)
        field("request_id", requestID)
        canonical.append("details=")
        JSONText.appendObject(details, to: &canonical)
        canonical.append("\n")
        field("prev_hash", prevHash, last: true)
        return canonical.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }.withUnsafeBytes(Hex.string)
    }
}

/// What a caller knows when it records an event; the trail adds id, sequence, time and hashes.
package struct AuditRecord: Sendable {
    package var actorType: AuditEvent.ActorType
    package var actorID: String?
    package var actorName: String?
    package var actorRoles: [String]
    package var action: String
    package var resourceType: String?
    package var resourceID: String?
    package var patientID: String?
    package var outcome: AuditEvent.Outcome
    package var reason: String?
    package var clientAddress: String?
    package var userAgent: String?
    package var requestID: String?
    package var details: [String: String]

    package init(
        actorType: AuditEvent.ActorType = .user, actorID: String? = nil, actorName: String? = nil, actorRoles: [String] = [],
        action: String, resourceType: String? = nil, resourceID: String? = nil, patientID: String? = nil,
        outcome: AuditEvent.Outcome = .success, reason: String? = nil, clientAddress: String? = nil, userAgent: String? = nil,
        requestID: String? = nil, details: [String: String] = [:]
    ) {
        self.actorType = actorType
        self.actorID = actorID
        self.actorName = actorName
        self.actorRoles = actorRoles
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.patientID = patientID
        self.outcome = outcome
        self.reason = reason
        self.clientAddress = clientAddress
        self.userAgent = userAgent
        self.requestID = requestID
        self.details = details
    }
}
