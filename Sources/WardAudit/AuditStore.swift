import Foundation
import SQLKit
import WardCore
package import WardStorage

/// Reading the trail back: filtered pages, and the chain check behind `ward audit verify`.
package enum AuditStore {
    static let columns = [
        "seq", "id", "occurred_at", "actor_type", "actor_id", "actor_name", "actor_roles", "action", "resource_type",
        "resource_id", "patient_id", "outcome", "reason", "client_address", "user_agent", "request_id", "details",
        "prev_hash", "hash",
    ]

    /// `columns` as SQL text, for the insert every audited request makes.
    static let columnList = SQLText.columns(columns)

    /// The values of `event`, in the order of `columns`.
    static func values(of event: AuditEvent) -> [any Encodable & Sendable] {
        [
            event.seq, event.id, event.occurredAt, event.actorType.rawValue, event.actorID,
            event.actorName, event.actorRoles.joined(separator: ","), event.action, event.resourceType,
            event.resourceID, event.patientID, event.outcome.rawValue, event.reason,
            event.clientAddress, event.userAgent, event.requestID, detailsJSON(event.details),
            event.prevHash, event.hash,
        ]
    }

    /// `columns` with their PostgreSQL types, for reading rows out of JSON (`json_to_recordset`).
    static let recordsetColumns = columns.map { "\"\($0)\" " + ($0 == "seq" ? "bigint" : "text") }.joined(separator: ", ")

    /// `event` as a JSON object keyed by column, as `json_to_recordset` reads a row: the values
    /// `values(of:)` binds, so the two ways a row is written (binds on SQLite, one JSON batch on
    /// PostgreSQL) share one mapping. Written member by member: boxing each value to write it
    /// cost as much as the rest of a read's audit in Ward.
    static func appendJSONRow(_ event: AuditEvent, to json: inout String) {
        json.append("{\"seq\":")
        json.append(String(event.seq))
        appendJSONMembers(of: event, to: &json)
        appendJSONMember("prev_hash", event.prevHash, to: &json)
        appendJSONMember("hash", event.hash, to: &json)
        json.append("}")
    }

    /// The members of `event` between its number and its hashes, `id` through `details`, each
    /// after a comma (the journal writes them after its tenant).
    static func appendJSONMembers(of event: AuditEvent, to json: inout String) {
        appendJSONMember("id", event.id, to: &json)
        appendJSONMember("occurred_at", event.occurredAt, to: &json)
        appendJSONMember("actor_type", event.actorType.rawValue, to: &json)
        appendJSONMember("actor_id", event.actorID, to: &json)
        appendJSONMember("actor_name", event.actorName, to: &json)
        appendJSONMember("actor_roles", event.actorRoles.joined(separator: ","), to: &json)
        appendJSONMember("action", event.action, to: &json)
        appendJSONMember("resource_type", event.resourceType, to: &json)
        appendJSONMember("resource_id", event.resourceID, to: &json)
        appendJSONMember("patient_id", event.patientID, to: &json)
        appendJSONMember("outcome", event.outcome.rawValue, to: &json)
        appendJSONMember("reason", event.reason, to: &json)
        appendJSONMember("client_address", event.clientAddress, to: &json)
        appendJSONMember("user_agent", event.userAgent, to: &json)
        appendJSONMember("request_id", event.requestID, to: &json)
        appendJSONMember("details", detailsJSON(event.details), to: &json)
    }

    /// `,"column":value`, the value as a JSON string or null.
    private static func appendJSONMember(_ column: String, _ value: String?, to json: inout String) {
        json.append(",\"")
        json.append(column)
        json.append("\":")
        if let value { JSONText.appendString(value, to: &json) } else { json.append("null") }
    }

    /// Details as a JSON object with sorted keys.
    static func detailsJSON(_ details: [String: String]) -> String {
        var json = ""
        JSONText.appendObject(details, to: &json)
        return json
    }

    static func event(from row: any SQLRow) throws -> AuditEvent {
        AuditEvent(try stamped(from: row), seq: try row.decode(column: "seq", as: Int64.self),
                   prevHash: try row.decode(column: "prev_hash", as: String.self), hash: try row.decode(column: "hash", as: String.self))
    }

    /// An event's fields but its number and hashes, from a row of the trail or of the journal.
    static func stamped(from row: any SQLRow) throws -> StampedRecord {
        let roles = try row.decode(column: "actor_roles", as: String.self)
        let detailsText = try row.decode(column: "details", as: String.self)
        let details = (try? JSONSerialization.jsonObject(with: Data(detailsText.utf8)) as? [String: String]) ?? [:]
        let record = AuditRecord(
            actorType: AuditEvent.ActorType(rawValue: try row.decode(column: "actor_type", as: String.self)) ?? .system,
            actorID: try row.decode(column: "actor_id", as: String?.self), actorName: try row.decode(column: "actor_name", as: String?.self),
            actorRoles: roles.isEmpty ? [] : roles.split(separator: ",").map(String.init),
            action: try row.decode(column: "action", as: String.self),
            resourceType: try row.decode(column: "resource_type", as: String?.self), resourceID: try row.decode(column: "resource_id", as: String?.self),
            patientID: try row.decode(column: "patient_id", as: String?.self),
            outcome: AuditEvent.Outcome(rawValue: try row.decode(column: "outcome", as: String.self)) ?? .error,
            reason: try row.decode(column: "reason", as: String?.self), clientAddress: try row.decode(column: "client_address", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self), requestID: try row.decode(column: "request_id", as: String?.self),
            details: details
        )
        return StampedRecord(record: record, id: try row.decode(column: "id", as: String.self),
                             occurredAt: try row.decode(column: "occurred_at", as: String.self))
    }

    /// Which events to list.
    package struct Filter: Sendable {
        package var actorID: String?
        package var patientID: String?
        package var resourceType: String?
        package var resourceID: String?
        package var action: String?
        package var outcome: String?
        package var from: String?
        package var to: String?
        package init() {}
    }

    /// Events matching `filter`, newest first, `limit` at a time; `before` is the previous
    /// page's cursor (a sequence number).
    package static func events(in scope: TenantScope, filter: Filter, before: Int64?, limit: Int, ascending: Bool = false) async throws -> [AuditEvent] {
        let table = try scope.table("audit_events")
        return try await scope.read { database in
            var query = database.select().columns(columns).from(table)
            if let value = filter.actorID { query = query.where("actor_id", .equal, value) }
            if let value = filter.patientID {
                let (after, upTo) = ascending ? (before, nil) : (nil, before)
                query = query.where(try AuditPatientIndex.condition(patientID: value, after: after, before: upTo, in: scope))
            }
            if let value = filter.resourceType { query = query.where("resource_type", .equal, value) }
            if let value = filter.resourceID { query = query.where("resource_id", .equal, value) }
            if let value = filter.action { query = query.where("action", .equal, value) }
            if let value = filter.outcome { query = query.where("outcome", .equal, value) }
            if let value = filter.from { query = query.where("occurred_at", .greaterThanOrEqual, value) }
            if let value = filter.to { query = query.where("occurred_at", .lessThan, value) }
            if let before { query = query.where("seq", ascending ? .greaterThan : .lessThan, before) }
            return try await query.orderBy("seq", ascending ? .ascending : .descending).limit(limit).all().map(event(from:))
        }
    }

    /// The result of walking a tenant's chain.
    package struct Verification: Sendable, Equatable {
        package var checked: Int
        /// The first broken link: its sequence number and what is wrong there.
        package var firstBreak: (seq: Int64, problem: String)?

        package static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.checked == rhs.checked && lhs.firstBreak?.seq == rhs.firstBreak?.seq && lhs.firstBreak?.problem == rhs.firstBreak?.problem
        }
    }

    /// Walks the whole chain in order: every sequence number present once, every event's
    /// `prev_hash` equal to its predecessor's hash, every hash equal to the recomputed one; and,
    /// given the witness, the head it saw last still there as it saw it.
    package static func verify(_ scope: TenantScope, witness: AuditWitness? = nil) async throws -> Verification {
        // After retention the chain starts at the anchor it left: the last removed event.
        let anchor = try await AuditRetention.anchor(in: scope)
        var expectedSeq: Int64 = (anchor?.seq ?? 0) + 1
        var previous = anchor?.hash ?? AuditEvent.genesisHash
        var checked = 0
        var cursor: Int64 = anchor?.seq ?? 0
        while true {
            let page = try await events(in: scope, filter: Filter(), before: cursor, limit: 1000, ascending: true)
            for event in page {
                if event.seq != expectedSeq {
                    return Verification(checked: checked, firstBreak: (expectedSeq, "event \(expectedSeq) is missing (next present is \(event.seq))"))
                }
                if event.prevHash != previous {
                    return Verification(checked: checked, firstBreak: (event.seq, "event \(event.seq) does not follow event \(event.seq - 1) (prev_hash differs)"))
                }
                if event.computedHash() != event.hash {
                    return Verification(checked: checked, firstBreak: (event.seq, "event \(event.seq) was altered (hash differs)"))
                }
                previous = event.hash
                expectedSeq += 1
                checked += 1
            }
            guard let last = page.last, page.count == 1000 else { break }
            cursor = last.seq
        }
        if let missing = try await AuditPatientIndex.firstUnindexed(in: scope) {
            return Verification(checked: checked, firstBreak: (missing, "event \(missing) is missing from the patient index"))
        }
        if let witness, let problem = try await witness.check(scope) {
            return Verification(checked: checked, firstBreak: problem)
        }
        return Verification(checked: checked, firstBreak: nil)
    }
}
