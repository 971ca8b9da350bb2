import Foundation
package import OpenAPIKit
import SQLKit
package import WardCore
package import WardHTTP
package import WardStorage

/// Emergency access: a clinician without the usual permission may open one patient's record for
/// a limited time by stating a reason. The grant is audited as `break_glass` and stays on the
/// review list until an auditor marks it reviewed.
package struct BreakGlass: Sendable {
    package let trail: AuditTrail
    /// How long a grant lasts.
    package let duration: Duration

    /// A stated reason: long enough to say what the emergency is, which an auditor reviews
    /// (20 to 500 characters of free text), in at least three words (`reasonPattern`).
    package static let reason = TextField.freeText(min: 20, max: 500)
    /// Three runs of characters other than whitespace, apart; no control character but tab and
    /// line breaks. Whitespace is spelled out as `TextRules.whitespace` says it.
    package static let reasonPattern: String = {
        let refused = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F"
        let space = "[\\u0009\\u000A\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]"
        let word = "[^\\u0000-\\u001F\\u007F\(TextRules.whitespace)]"
        return "^[^\(refused)]*\(word)+\(space)+\(word)+\(space)+\(word)[^\(refused)]*$"
    }()
    /// An auditor's note on a reviewed grant.
    package static let reviewNote = TextField.freeText(max: 1000)

    /// Why `reason` is not an acceptable reason, or nil.
    static func problem(withReason reason: String) -> String? {
        if Self.reason.problem(with: reason) != nil
            || reason.unicodeScalars.split(whereSeparator: \.properties.isWhitespace).count < 3 {
            return "must explain the emergency in \(Self.reason.minLength) to \(Self.reason.maxLength) characters, in words"
        }
        return nil
    }

    /// The time grants are given and checked at.
    let clock: any WallClock

    package init(trail: AuditTrail, duration: Duration = .seconds(3600), clock: any WallClock = SystemClock()) {
        self.trail = trail
        self.duration = duration
        self.clock = clock
    }

    /// A grant as the review list shows it.
    package struct Grant: Codable, Sendable, Equatable, APIResponseBody {
        package static var schemaName: String { "BreakGlassGrant" }
        package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["granted_at": .dateTime, "expires_at": .dateTime, "reviewed_at": .dateTime]
        }

        package var id: String
        package var userID: String
        package var userName: String?
        package var patientID: String
        package var reason: String
        package var grantedAt: String
        package var expiresAt: String
        package var reviewedAt: String?
        package var reviewedBy: String?
        package var reviewNote: String?

        enum CodingKeys: String, CodingKey {
            case id, reason
            case userID = "user_id", userName = "user_name", patientID = "patient_id", grantedAt = "granted_at", expiresAt = "expires_at"
            case reviewedAt = "reviewed_at", reviewedBy = "reviewed_by", reviewNote = "review_note"
        }
        static let columns = ["id", "user_id", "user_name", "patient_id", "reason", "granted_at", "expires_at", "reviewed_at", "reviewed_by", "review_note"]
    }

    /// Grants `actor` access to `patientID` for `duration`, for a stated reason.
    package func grant(patientID: String, reason: String, in scope: TenantScope, by actor: AuditActor) async throws -> Grant {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [Problem.FieldError] = []
        if let message = Self.problem(withReason: reason) { errors.append(.init(field: "reason", message: message)) }
        if patientID.utf8.count != 36 || UUID(uuidString: patientID) == nil { errors.append(.init(field: "patient_id", message: "must be a patient id")) }
        if !errors.isEmpty { throw AuditError.invalidBreakGlass(errors) }
        guard let userID = actor.id else { throw AuditError.invalidBreakGlass([.init(field: "actor", message: "must be a signed-in user")]) }
        let now = clock.now
        let grant = Grant(id: UUIDv7.id(at: now), userID: userID, userName: actor.name, patientID: patientID.lowercased(),
                          reason: trimmed, grantedAt: Timestamp.text(now), expiresAt: Timestamp.text(now.addingTimeInterval(duration.timeInterval)),
                          reviewedAt: nil, reviewedBy: nil, reviewNote: nil)
        let table = try scope.table("break_glass_grants")
        let trail = self.trail
        try await scope.transaction { database in
            try await database.insert(into: table).model(grant).run()
            try await trail.append(actor.record("break_glass", resourceType: "patient", resourceID: grant.patientID, patientID: grant.patientID,
                                                reason: trimmed, details: ["grant_id": grant.id, "expires_at": grant.expiresAt]), in: database, scope: scope)
        }
        return grant
    }

    /// The id of an unexpired grant of `userID` for `patientID`, if any.
    package func activeGrant(userID: String, patientID: String, in scope: TenantScope) async throws -> String? {
        let table = try scope.table("break_glass_grants")
        let now = Timestamp.text(clock.now)
        return try await scope.read { database in
            try await database.select().column("id").from(table).where("user_id", .equal, userID).where("patient_id", .equal, patientID.lowercased())
                .where("expires_at", .greaterThan, now).orderBy("expires_at", .descending).limit(1).first()?.decode(column: "id", as: String.self)
        }
    }

    /// Grants awaiting review (or, with `reviewed`, those already reviewed), newest first.
    package func grants(reviewed: Bool, in scope: TenantScope) async throws -> [Grant] {
        let table = try scope.table("break_glass_grants")
        return try await scope.read { database in
            try await database.select().columns(Grant.columns).from(table)
                .where("reviewed_at", reviewed ? .isNot : .is, SQLLiteral.null)
                .orderBy("granted_at", .descending).limit(500).all(decoding: Grant.self)
        }
    }

    /// Marks a grant reviewed, with the auditor's note.
    package func review(_ id: String, note: String?, in scope: TenantScope, by actor: AuditActor) async throws -> Grant {
        if let note, let message = Self.reviewNote.problem(with: note) { throw AuditError.invalidBreakGlass([.init(field: "note", message: message)]) }
        let table = try scope.table("break_glass_grants")
        let trail = self.trail
        let now = Timestamp.now()
        return try await scope.transaction { database in
            guard var grant = try await database.select().columns(Grant.columns).from(table).where("id", .equal, id).first(decoding: Grant.self) else {
                throw AuditError.grantNotFound
            }
            guard grant.reviewedAt == nil else { return grant }
            grant.reviewedAt = now
            grant.reviewedBy = actor.id
            grant.reviewNote = note
            try await database.update(table).set("reviewed_at", to: now).set("reviewed_by", to: actor.id).set("review_note", to: grant.reviewNote)
                .where("id", .equal, id).run()
            try await trail.append(actor.record("break_glass_review", resourceType: "break_glass_grant", resourceID: id, patientID: grant.patientID),
                                   in: database, scope: scope)
            return grant
        }
    }
}
