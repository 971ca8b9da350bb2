import Foundation
import SQLKit
import WardCore
package import WardHTTP
package import OpenAPIKit
import WardStorage

/// A patient as stored and served.
package struct Patient: Codable, Sendable, Equatable, APIResponseBody {
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["birth_date": .date, "sex": .enumeration(PatientInput.sexes), "status": .enumeration(["active", "archived"]),
         "created_at": .dateTime, "updated_at": .dateTime]
    }

    package var id: String
    package var mrn: String
    package var givenName: String
    package var familyName: String
    package var birthDate: String?
    package var sex: String?
    package var phone: String?
    package var email: String?
    package var address: String?
    package var nationalID: String?
    package var emergencyContact: String?
    /// Whether appointment reminders go to `email` (true unless the patient declined them).
    package var emailReminders: Bool
    package var metadata: String
    package var status: String
    package var version: Int
    package var createdBy: String?
    package var createdAt: String
    package var updatedBy: String?
    package var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, mrn, sex, phone, email, address, metadata, status, version
        case givenName = "given_name", familyName = "family_name", birthDate = "birth_date", nationalID = "national_id"
        case emergencyContact = "emergency_contact", createdBy = "created_by", createdAt = "created_at"
        case updatedBy = "updated_by", updatedAt = "updated_at", emailReminders = "email_reminders"
    }

    static let columns = [
        "id", "mrn", "given_name", "family_name", "birth_date", "sex", "phone", "email", "address", "national_id",
        "emergency_contact", "email_reminders", "metadata", "status", "version", "created_by", "created_at", "updated_by", "updated_at",
    ]

    /// `columns` as SQL text, for the statements written as text on hot paths.
    static let columnList = SQLText.columns(columns)

    /// The entity tag of this version.
    package var etag: String { "\"\(version)\"" }
}

extension Patient {
    /// Reads a row of `columns` (without the generic row decoder: every read decodes one).
    init(row: any SQLRow) throws {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        func optional(_ column: String) throws -> String? { try row.decode(column: column, as: String?.self) }
        id = try text("id")
        mrn = try text("mrn")
        givenName = try text("given_name")
        familyName = try text("family_name")
        birthDate = try optional("birth_date")
        sex = try optional("sex")
        phone = try optional("phone")
        email = try optional("email")
        address = try optional("address")
        nationalID = try optional("national_id")
        emergencyContact = try optional("emergency_contact")
        emailReminders = try row.decode(column: "email_reminders", as: Bool.self)
        metadata = try text("metadata")
        status = try text("status")
        version = try row.decode(column: "version", as: Int.self)
        createdBy = try optional("created_by")
        createdAt = try text("created_at")
        updatedBy = try optional("updated_by")
        updatedAt = try text("updated_at")
    }
}

extension Patient: JSONWritable {
    package var expectedJSONBytes: Int { 512 }

    package func appendJSON(to json: inout String) {
        // Keys in sorted order, absent optionals left out: as the JSON encoder writes a Patient.
        var object = JSONObjectWriter(&json)
        object.add("address", address, to: &json)
        object.add("birth_date", birthDate, to: &json)
        object.add("created_at", createdAt, to: &json)
        object.add("created_by", createdBy, to: &json)
        object.add("email", email, to: &json)
        object.add("email_reminders", emailReminders, to: &json)
        object.add("emergency_contact", emergencyContact, to: &json)
        object.add("family_name", familyName, to: &json)
        object.add("given_name", givenName, to: &json)
        object.add("id", id, to: &json)
        object.add("metadata", metadata, to: &json)
        object.add("mrn", mrn, to: &json)
        object.add("national_id", nationalID, to: &json)
        object.add("phone", phone, to: &json)
        object.add("sex", sex, to: &json)
        object.add("status", status, to: &json)
        object.add("updated_at", updatedAt, to: &json)
        object.add("updated_by", updatedBy, to: &json)
        object.add("version", version, to: &json)
        object.end(&json)
    }
}

extension Patient {
    /// Which identifying (sealed) fields a read discloses: all of them (the API, a chart), or
    /// those a list of results shows beside the name and MRN (birth date and phone), the others
    /// left out.
    package enum Disclosure: Sendable {
        case all, listed

        static let listedColumns: Set<String> = ["birth_date", "phone"]
    }
}

/// The fields a client may set on a patient; absent fields stay as they are on update.
package struct PatientInput: Sendable, APIRequestBody {
    package static var schemaName: String { "PatientChange" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["mrn": .string(pattern: mrnPattern), "given_name": name.schema, "family_name": name.schema,
         "birth_date": .string(format: .date, pattern: datePattern), "sex": .enumeration(sexes),
         "phone": .string(pattern: phonePattern), "email": TextRules.emailSchema,
         "address": longText.schema, "national_id": nationalID.schema, "emergency_contact": longText.schema, "email_reminders": .boolean,
         // Metadata is the tenant's own: any keys of one line, each with a text value.
         "metadata": .object(maxProperties: 50, patternProperties: [metadataKey.boundedPattern: metadataValue.schema],
                             additionalProperties: .a(false))]
    }

    package var mrn: String?
    package var givenName: String?
    package var familyName: String?
    package var birthDate: String?
    package var sex: String?
    package var phone: String?
    package var email: String?
    package var address: String?
    package var nationalID: String?
    package var emergencyContact: String?
    package var emailReminders: Bool?
    package var metadata: [String: String]?

    enum CodingKeys: String, CodingKey {
        case mrn, sex, phone, email, address, metadata
        case givenName = "given_name", familyName = "family_name", birthDate = "birth_date", nationalID = "national_id"
        case emergencyContact = "emergency_contact", emailReminders = "email_reminders"
    }

    package init(mrn: String? = nil, givenName: String? = nil, familyName: String? = nil, birthDate: String? = nil, sex: String? = nil,
                 phone: String? = nil, email: String? = nil) {
        self.mrn = mrn
        self.givenName = givenName
        self.familyName = familyName
        self.birthDate = birthDate
        self.sex = sex
        self.phone = phone
        self.email = email
    }

    /// The rules of each text field, shared by the validation and the OpenAPI schema.
    static let name = TextField.singleLine(max: 100)
    static let nationalID = TextField.singleLine(max: 64)
    static let longText = TextField.freeText(max: 500)
    static let metadataKey = TextField.singleLine(max: 64)
    static let metadataValue = TextField.freeText(max: 1000)
    static let mrnPattern = #"^[A-Za-z0-9-]{1,32}$"#
    static let phonePattern = #"^\+?[0-9 ()-]{3,32}$"#
    static let datePattern = #"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#
    static let sexes = ["female", "male", "other", "unknown"]

    /// Every invalid field, one entry each; `creating` requires the names.
    func problems(creating: Bool) -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if creating {
            if givenName == nil { errors.append(.init(field: "given_name", message: "is required")) }
            if familyName == nil { errors.append(.init(field: "family_name", message: "is required")) }
        }
        Self.name.check(givenName, "given_name", into: &errors)
        Self.name.check(familyName, "family_name", into: &errors)
        Self.longText.check(address, "address", into: &errors)
        Self.nationalID.check(nationalID, "national_id", into: &errors)
        Self.longText.check(emergencyContact, "emergency_contact", into: &errors)
        if let mrn, !TextRules.matches(mrn, Self.mrnPattern) {
            errors.append(.init(field: "mrn", message: "must be 1 to 32 letters, digits or hyphens"))
        }
        if let birthDate {
            if let date = ClinicalDates.date(birthDate) {
                if date > Date() { errors.append(.init(field: "birth_date", message: "must not be in the future")) }
            } else {
                errors.append(.init(field: "birth_date", message: "must be a date as YYYY-MM-DD"))
            }
        }
        if let sex, !Self.sexes.contains(sex) {
            errors.append(.init(field: "sex", message: "must be female, male, other or unknown"))
        }
        if let phone, !TextRules.matches(phone, Self.phonePattern) {
            errors.append(.init(field: "phone", message: "must be a phone number"))
        }
        if let email, !TextRules.isEmail(email) {
            errors.append(.init(field: "email", message: "must be an email address"))
        }
        if let metadata {
            if metadata.count > 50 { errors.append(.init(field: "metadata", message: "holds at most 50 entries")) }
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                Self.metadataKey.check(key, "metadata", into: &errors)
                Self.metadataValue.check(value, "metadata.\(key)", into: &errors)
            }
        }
        return errors
    }

}

/// A registration: a patient's fields with both names required (a missing one answers 422,
/// with every other invalid field).
package struct NewPatient: Sendable, APIRequestBody {
    package let input: PatientInput

    package init(from decoder: any Decoder) throws {
        input = try PatientInput(from: decoder)
    }

    package static func schema(_ builder: inout SchemaBuilder) -> JSONSchema {
        SchemaReflection.schema(of: PatientInput.self, closed: true, rules: PatientInput.fieldRules(builder.context),
                                required: ["given_name", "family_name"], builder: &builder)
    }
}

/// Calendar dates as `YYYY-MM-DD`, validated strictly.
enum ClinicalDates {
    static func date(_ text: String) -> Date? {
        guard TextRules.matches(text, PatientInput.datePattern) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = text.split(separator: "-").compactMap { Int($0) }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard let date = calendar.date(from: components),
              calendar.dateComponents([.year, .month, .day], from: date) == components else { return nil }
        return date
    }
}

/// Medical record numbers Ward generates: `W`, the tenant's next number (at least seven
/// digits) and a Luhn check digit, so a mistyped number is caught at the desk. Numbers come
/// from a per-tenant counter: never reused, never colliding.
package enum MedicalRecordNumber {
    package static func make(_ number: Int) -> String {
        let digits = String(format: "%07d", number).compactMap { $0.wholeNumberValue }
        return "W" + digits.map(String.init).joined() + String(checkDigit(digits))
    }

    package static func isValidGenerated(_ mrn: String) -> Bool {
        guard mrn.hasPrefix("W"), mrn.count >= 9 else { return false }
        let digits = mrn.dropFirst().compactMap { $0.wholeNumberValue }
        return digits.count == mrn.count - 1 && checkDigit(Array(digits.dropLast())) == digits.last
    }

    static func checkDigit(_ digits: [Int]) -> Int {
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            var value = digit
            if index % 2 == 0 { value *= 2; if value > 9 { value -= 9 } }
            sum += value
        }
        return (10 - sum % 10) % 10
    }
}
