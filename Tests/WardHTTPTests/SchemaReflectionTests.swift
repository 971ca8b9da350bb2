import Foundation
import OpenAPIKit
import Testing
import WardHTTP

/// Schemas generated from Codable types: what the document shows is what the types decode.
@Suite("Schema reflection")
struct SchemaReflectionTests {
    enum Ward: String, Codable, StringEnumeration { case medical, surgical = "surgical_ward" }

    struct Dose: Codable, APIResponseBody {
        let amount: Int
        let unit: String
    }

    struct Admission: Codable, APIResponseBody {
        let id: String
        let ward: Ward
        let bed: Int?
        let notes: [String]
        let doses: [Dose]
        let labels: [String: String]
        let discharge: String??
        let isolation: Bool
        let weight: Double?
        enum CodingKeys: String, CodingKey { case id, ward, bed, notes, doses, labels, discharge = "discharge_at", isolation, weight }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["id": .id, "discharge_at": .dateTime.nullableSchemaObject(), "notes": .array(maxItems: context.permissionNames.count, items: .string)]
        }
    }

    struct NewAdmission: APIRequestBody {
        let ward: Ward
        let bed: Int?
        let contact: Contact
        /// Not documented on its own: inlined, closed like the body that holds it.
        struct Contact: Decodable { let phone: String; let name: String? }
    }

    /// Refers to itself through an array.
    struct Ward2: Codable, APIResponseBody {
        let name: String
        let wings: [Ward2]
        static var schemaName: String { "Wing" }
    }

    static let context = SchemaContext(passwordMinimumLength: 12, permissionNames: ["a", "b", "c"])

    func json(_ schema: JSONSchema) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try JSONSerialization.jsonObject(with: encoder.encode(schema)) as! [String: Any]
    }

    @Test("fields by their coding keys with their JSON types; decode is required, decodeIfPresent optional; rules refine fields")
    func responseFields() throws {
        var builder = SchemaBuilder(context: Self.context)
        #expect(try json(builder.reference(to: Admission.self))["$ref"] as? String == "#/components/schemas/Admission")
        let admission = try json(try #require(builder.schema(named: "Admission")))
        #expect(admission["type"] as? String == "object")
        #expect(admission["additionalProperties"] == nil, "responses stay open")
        #expect(Set(admission["required"] as! [String]) == ["id", "ward", "notes", "doses", "labels", "isolation"])
        let properties = admission["properties"] as! [String: [String: Any]]
        #expect(Set(properties.keys) == ["id", "ward", "bed", "notes", "doses", "labels", "discharge_at", "isolation", "weight"])
        #expect(properties["ward"]?["enum"] as? [String] == ["medical", "surgical_ward"])
        #expect(properties["bed"]?["type"] as? String == "integer")
        #expect(properties["isolation"]?["type"] as? String == "boolean")
        #expect(properties["weight"]?["type"] as? String == "number")
        #expect(properties["id"]?["format"] as? String == "uuid")
        #expect(properties["discharge_at"]?["type"] as? [String] == ["string", "null"])
        #expect(properties["discharge_at"]?["format"] as? String == "date-time")
        #expect(properties["notes"]?["maxItems"] as? Int == 3, "rules read the context")
        #expect((properties["labels"]?["additionalProperties"] as? [String: Any])?["type"] as? String == "string")
        // A nested documented type is referred to and added once.
        #expect((properties["doses"]?["items"] as? [String: Any])?["$ref"] as? String == "#/components/schemas/Dose")
        let dose = try json(try #require(builder.schema(named: "Dose")))
        #expect(Set(dose["required"] as! [String]) == ["amount", "unit"])
        #expect(builder.clashes.isEmpty)
    }

    @Test("request bodies are closed, nested plain types inlined and closed; the shape the decoder enforces follows")
    func requestBodies() throws {
        var builder = SchemaBuilder(context: Self.context)
        let reference = builder.reference(to: NewAdmission.self)
        let body = try json(try #require(builder.schema(named: "NewAdmission")))
        #expect(body["additionalProperties"] as? Bool == false)
        let contact = (body["properties"] as! [String: [String: Any]])["contact"]!
        #expect(contact["additionalProperties"] as? Bool == false)
        #expect(contact["required"] as? [String] == ["phone"])
        let shape = BodyShape(schema: reference, components: builder.components)
        func problem(_ text: String) -> String? {
            Array(text.utf8).withUnsafeBytes { shape.problem(in: $0) }.map { "\($0.field) \($0.message)" }
        }
        #expect(problem(#"{"ward": "medical", "contact": {"phone": "1"}}"#) == nil)
        #expect(problem(#"{"ward": "medical", "contact": {"phone": "1", "fax": "2"}}"#) == "contact.fax is not a field of this request")
        #expect(problem(#"{"ward": "medical", "bed": null}"#) == "bed must not be null")
        #expect(problem(#"{"ward": "medical", "bed": "4"}"#) == "bed must be a whole number")
    }

    @Test("a type that refers to itself is built once; two types claiming one name are a clash")
    func namesAndCycles() throws {
        var builder = SchemaBuilder(context: Self.context)
        _ = builder.reference(to: Ward2.self)
        let wing = try json(try #require(builder.schema(named: "Wing")))
        let wings = (wing["properties"] as! [String: [String: Any]])["wings"]!
        #expect((wings["items"] as? [String: Any])?["$ref"] as? String == "#/components/schemas/Wing")

        struct Other: Codable, APIResponseBody {
            let x: Int
            static var schemaName: String { "Dose" }
        }
        _ = builder.reference(to: Dose.self)
        _ = builder.reference(to: Dose.self)
        #expect(builder.clashes.isEmpty, "the same type twice is no clash")
        _ = builder.reference(to: Other.self)
        #expect(builder.clashes == ["Dose"])
    }
}
