package import WardCore

/// The structure a request body must have, read from the JSON Schema the OpenAPI document shows
/// for it: which fields each object has (and whether others are refused), which values may be
/// null, and the JSON type of each value. The body decoder checks it before the handler sees
/// the body, so a field the schema does not know is refused by name rather than silently
/// dropped (a misspelt `birth_date` lost is data lost), and `null` is refused where the schema
/// does not allow it rather than read as "absent". Required fields, lengths, patterns and
/// enumerations stay with each module's validation, which names every invalid field at once
/// (a required field the body type cannot do without is a 400 from the decoding).
package indirect enum BodyShape: Sendable, Equatable {
    /// An object: its declared fields, and what other fields may hold (nil: none are allowed).
    case object(fields: [String: BodyShape], others: BodyShape?)
    /// An array of `items`.
    case array(items: BodyShape)
    /// A scalar of one of `types`.
    case scalar(types: Set<JSONType>)
    /// Anything (a schema without a type).
    case any

    /// The JSON types a schema names.
    package enum JSONType: String, Sendable, Hashable {
        case string, integer, number, boolean, null, object, array
    }

    /// The shape of `schema`, resolving `$ref`s to `#/components/schemas/…` in `components`.
    /// A reference to a schema that is not there is a programming error.
    package init(schema: [String: Any], components: [String: Any]) {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            guard let target = components[name] as? [String: Any] else { preconditionFailure("no schema \(name) for \(reference)") }
            self.init(schema: target, components: components)
            return
        }
        let types: Set<JSONType>
        switch schema["type"] {
        case let name as String: types = Set([JSONType(rawValue: name)].compactMap { $0 })
        case let names as [String]: types = Set(names.compactMap(JSONType.init(rawValue:)))
        default: self = .any; return
        }
        if types == [.object] {
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            let fields = properties.compactMapValues { ($0 as? [String: Any]).map { BodyShape(schema: $0, components: components) } }
            let others: BodyShape? = switch schema["additionalProperties"] {
            case let allowed as Bool: allowed ? .any : nil
            case let extra as [String: Any]: BodyShape(schema: extra, components: components)
            default: .any
            }
            self = .object(fields: fields, others: others)
        } else if types == [.array] {
            self = .array(items: (schema["items"] as? [String: Any]).map { BodyShape(schema: $0, components: components) } ?? .any)
        } else {
            self = .scalar(types: types)
        }
    }

    /// The first way `value` departs from this shape, as a field error naming its path; nil
    /// when it fits.
    package func problem(with value: JSONValue, at path: String = "") -> Problem.FieldError? {
        let field = path.isEmpty ? "the body" : path
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        switch (self, value) {
        case (.any, _):
            return nil
        case (.object(let fields, let others), .object(let members)):
            // Sorted, so the same body always names the same field.
            for name in members.keys.sorted() {
                let member = members[name]!
                if let shape = fields[name] ?? others {
                    if let problem = shape.problem(with: member, at: child(name)) { return problem }
                } else {
                    return .init(field: child(name), message: "is not a field of this request")
                }
            }
            return nil
        case (.array(let items), .array(let elements)):
            for (index, element) in elements.enumerated() {
                if let problem = items.problem(with: element, at: child(String(index))) { return problem }
            }
            return nil
        case (.scalar(let types), _):
            if types.contains(value.type) || (value.type == .integer && types.contains(.number)) { return nil }
            if value.type == .number, types.contains(.integer), value.isWholeNumber { return nil }
            return .init(field: field, message: value.type == .null ? "must not be null" : "must be \(Self.describe(types))")
        case (.object, _):
            return .init(field: field, message: value.type == .null ? "must not be null" : "must be an object")
        case (.array, _):
            return .init(field: field, message: value.type == .null ? "must not be null" : "must be an array")
        }
    }

    private static func describe(_ types: Set<JSONType>) -> String {
        let names: [JSONType: String] = [
            .string: "a string", .integer: "a whole number", .number: "a number", .boolean: "true or false",
            .null: "null", .object: "an object", .array: "an array",
        ]
        return types.map { names[$0]! }.sorted().joined(separator: " or ")
    }
}

/// A parsed JSON value, as the body shape inspects it. Decoded with `JSONDecoder`, which keeps
/// `true` and `1` apart.
package enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case boolean(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    var type: BodyShape.JSONType {
        switch self {
        case .null: .null
        case .boolean: .boolean
        case .number(let value): value.rounded() == value && value.magnitude < 0x1p63 ? .integer : .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    var isWholeNumber: Bool {
        if case .number(let value) = self { return value.rounded() == value }
        return false
    }
}

/// JSON Schemas of request bodies, as controllers declare them.
package enum RequestSchema {
    /// An object with `properties` and no others (`additionalProperties: false`): a field the
    /// schema does not name is refused, not dropped.
    package static func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        var schema: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
        if !required.isEmpty { schema["required"] = required }
        return schema
    }
}
