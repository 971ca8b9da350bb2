package import OpenAPIKit

/// A body the API document shows as a named schema (a component of the document). The schema
/// is generated from the type's `Decodable` conformance (`SchemaReflection`): its fields by their
/// JSON names, their JSON types, which are required, nested types. What a Swift type cannot say
/// (a pattern, a length, the values a string may take, a format) the type adds by field name in
/// `fieldRules`, from the same values its validation checks. A type whose JSON its Codable
/// conformance does not describe (it writes it by hand) gives its whole `schema` instead.
package protocol APISchema: SendableMetatype {
    /// The component's name in the document: by default the type's name.
    static var schemaName: String { get }
    /// The rules of fields beyond their JSON type, by the fields' JSON names. Each replaces the
    /// field's reflected schema, whose required-ness it keeps. A name the type has no field for
    /// is a programming error, caught when the document is built.
    static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema]
    /// The schema of the type, nested types referred to through `builder`.
    static func schema(_ builder: inout SchemaBuilder) -> JSONSchema
}

/// A JSON request body: a field the type does not declare is refused (`additionalProperties:
/// false`, which the body decoder enforces), for a misspelt field dropped silently is data lost.
package protocol APIRequestBody: APISchema, Decodable {}

/// A JSON response body. Its schema stays open to fields added later, as clients should be.
package protocol APIResponseBody: APISchema, Encodable {}

extension APISchema {
    package static var schemaName: String { String(describing: Self.self) }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { [:] }
}

extension APISchema where Self: Decodable {
    package static func schema(_ builder: inout SchemaBuilder) -> JSONSchema {
        SchemaReflection.schema(of: Self.self, closed: Self.self is any APIRequestBody.Type, rules: fieldRules(builder.context), builder: &builder)
    }
}

/// What schemas may depend on besides their types: the node's password policy and the
/// permissions its modules define.
package struct SchemaContext: Sendable {
    package var passwordMinimumLength: Int
    package var permissionNames: [String]

    package init(passwordMinimumLength: Int, permissionNames: [String]) {
        self.passwordMinimumLength = passwordMinimumLength
        self.permissionNames = permissionNames
    }
}

extension JSONSchema {
    /// A string that is one of `values` (JSON Schema's `enum`).
    package static func enumeration(_ values: [String]) -> JSONSchema {
        .string(allowedValues: values.map { AnyCodable($0) })
    }

    /// An RFC 3339 time as Ward writes it.
    package static var dateTime: JSONSchema { .string(format: .dateTime) }

    /// A calendar date, `YYYY-MM-DD`.
    package static var date: JSONSchema { .string(format: .date) }

    /// A Ward id.
    package static var id: JSONSchema { ParameterFormat.uuid.schema }

    /// A reference to `type`'s schema, for a rule that wraps it (an array of them with bounds,
    /// say). The reflection of the field adds the schema itself.
    package static func component(_ type: any APISchema.Type) -> JSONSchema {
        .reference(.component(named: type.schemaName))
    }
}

/// A string enumeration in a body: the document lists its values.
package protocol StringEnumeration: CaseIterable, RawRepresentable<String>, Decodable, SendableMetatype {}

extension StringEnumeration {
    static var rawValues: [String] { allCases.map(\.rawValue) }
    static var anyCase: Self { allCases.first! }
}
