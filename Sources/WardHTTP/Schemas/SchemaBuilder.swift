package import OpenAPIKit

/// The document's named schemas, gathered from the types operations name: each type's schema is
/// built once, the first time it is referred to, and nested documented types are added as they
/// are met. Two types claiming one name are a clash the node refuses to start with.
package struct SchemaBuilder {
    package let context: SchemaContext
    package private(set) var components = OrderedDictionary<String, JSONSchema>()
    /// The names two types claimed, in the order met.
    package private(set) var clashes: [String] = []
    private var owners: [String: ObjectIdentifier] = [:]

    package init(context: SchemaContext) {
        self.context = context
    }

    /// A reference to `type`'s schema, which is built the first time.
    package mutating func reference(to type: any APISchema.Type) -> JSONSchema {
        let name = type.schemaName
        if let owner = owners[name] {
            if owner != ObjectIdentifier(type), !clashes.contains(name) { clashes.append(name) }
        } else {
            // Claimed before it is built, so a type that refers to itself finds its name.
            owners[name] = ObjectIdentifier(type)
            components[name] = type.schema(&self)
        }
        return .reference(.component(named: name))
    }

    /// A component's schema by name, once built.
    package func schema(named name: String) -> JSONSchema? {
        components[name]
    }
}
