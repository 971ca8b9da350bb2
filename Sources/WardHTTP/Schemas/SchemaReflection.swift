import Foundation
package import OpenAPIKit

/// JSON Schemas from `Decodable` conformances. A type is decoded from a decoder that holds no
/// data and records what the decoding asks for: each field by its coding key, its type, and
/// whether it was read with `decodeIfPresent` (optional) or `decode` (required). The decoding
/// goes on with placeholder values (an empty string, zero, an empty array), which the type's
/// `init(from:)` must accept: the synthesized one does, and so does any that only reads fields.
/// A type that checks values as it decodes them documents itself with `APISchema.schema`.
package enum SchemaReflection {
    /// The schema of `type`'s fields: an object, closed to other fields when `closed`, each
    /// field's schema replaced by its rule in `rules` (its required-ness kept, or made required
    /// by `required`), nested documented types referred to through `builder`.
    package static func schema<T: Decodable>(
        of type: T.Type, closed: Bool, rules: [String: JSONSchema] = [:], required: Set<String> = [], builder: inout SchemaBuilder
    ) -> JSONSchema {
        let reflector = Reflector(builder: builder, closed: closed)
        defer { builder = reflector.builder }
        let recording = Recording()
        do {
            _ = try T(from: ReflectingDecoder(reflector: reflector, recording: recording))
        } catch {
            preconditionFailure("the schema of \(T.self) cannot be read from its Decodable conformance: \(error)")
        }
        guard recording.isKeyed else {
            precondition(rules.isEmpty && required.isEmpty, "\(T.self) has rules for fields but decodes a single value")
            return recording.single ?? .fragment
        }
        let unknown = Set(rules.keys).union(required).subtracting(recording.fields.map(\.name))
        precondition(unknown.isEmpty, "\(T.self) has rules for fields it does not decode: \(unknown.sorted())")
        return recording.object(closed: closed, rules: rules, required: required)
    }
}

/// Why a type's schema could not be read.
private struct Unreflectable: Error, CustomStringConvertible {
    let description: String
}

/// The state of one reflection: the builder that nested documented types are added to.
private final class Reflector {
    var builder: SchemaBuilder
    /// Whether nested objects that are not documented types of their own refuse other fields.
    let closed: Bool

    init(builder: SchemaBuilder, closed: Bool) {
        self.builder = builder
        self.closed = closed
    }

    /// The schema of `type` and a placeholder value of it, for the decoding to go on.
    func describe<T: Decodable>(_ type: T.Type) throws -> (JSONSchema, T) {
        let (schema, value) = try reflect(type, needsValue: true)
        return (schema, value!)
    }

    /// The schema of `type`, where no value is needed (an array's elements, an optional field).
    func schema<T: Decodable>(of type: T.Type) throws -> JSONSchema {
        try reflect(type, needsValue: false).0
    }

    /// The schema of `type`, and a value of it when `needsValue`. Containers need none of
    /// their elements, so a type that holds an array of itself is read once.
    private func reflect<T: Decodable>(_ type: T.Type, needsValue: Bool) throws -> (JSONSchema, T?) {
        if let leaf = type as? any ReflectedLeaf.Type {
            return (leaf.reflectedSchema, leaf.placeholder as? T)
        }
        if let enumeration = type as? any StringEnumeration.Type {
            return (.enumeration(enumeration.rawValues), enumeration.anyCase as? T)
        }
        if let array = type as? any ReflectedArray.Type {
            return (.array(items: try schema(of: array.elementType)), array.empty as? T)
        }
        if let dictionary = type as? any ReflectedDictionary.Type {
            return (.object(additionalProperties: .b(try schema(of: dictionary.valueType))), dictionary.empty as? T)
        }
        if let optional = type as? any ReflectedOptional.Type {
            return (try schema(of: optional.wrappedType).nullableSchemaObject(), optional.absent as? T)
        }
        if let documented = type as? any APISchema.Type {
            let reference = builder.reference(to: documented)
            guard needsValue else { return (reference, nil) }
            // A value to go on with, from a reflection whose findings are not kept.
            let scratch = Reflector(builder: builder, closed: closed)
            return (reference, try T(from: ReflectingDecoder(reflector: scratch, recording: Recording())))
        }
        let recording = Recording()
        let value = try T(from: ReflectingDecoder(reflector: self, recording: recording))
        guard recording.isKeyed else {
            guard let single = recording.single else { throw Unreflectable(description: "\(T.self) decodes nothing") }
            return (single, value)
        }
        return (recording.object(closed: closed, rules: [:], required: []), value)
    }
}

/// What one value's decoding asked for: fields of a keyed container, or a single value.
private final class Recording {
    var fields: [(name: String, schema: JSONSchema, required: Bool)] = []
    var single: JSONSchema?
    var isKeyed = false

    func record(_ name: String, _ schema: JSONSchema, required: Bool) {
        fields.removeAll { $0.name == name }
        fields.append((name, schema, required))
    }

    func object(closed: Bool, rules: [String: JSONSchema], required: Set<String>) -> JSONSchema {
        var properties = OrderedDictionary<String, JSONSchema>()
        for field in fields.sorted(by: { $0.name < $1.name }) {
            let schema = rules[field.name] ?? field.schema
            properties[field.name] = field.required || required.contains(field.name) ? schema.requiredSchemaObject() : schema.optionalSchemaObject()
        }
        return .object(properties: properties, additionalProperties: closed ? .a(false) : nil)
    }
}

private struct ReflectingDecoder: Decoder {
    let reflector: Reflector
    let recording: Recording
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        recording.isKeyed = true
        return KeyedDecodingContainer(KeyedReflection<Key>(reflector: reflector, recording: recording))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw Unreflectable(description: "an unkeyed container is read by hand")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueReflection(reflector: reflector, recording: recording)
    }
}

/// Fields: `decode` records a required field, `decodeIfPresent` an optional one (and answers
/// nil). Every overload is spelled out, for the protocol's defaults of `decodeIfPresent` ask
/// `contains` first and could not tell the two apart.
private struct KeyedReflection<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let reflector: Reflector
    let recording: Recording
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { false }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decode(type, key) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(type, key) }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type as Bool.Type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type as String.Type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type as Double.Type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(type as Float.Type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type as Int.Type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(type as Int8.Type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(type as Int16.Type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(type as Int32.Type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type as Int64.Type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(type as UInt.Type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(type as UInt8.Type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(type as UInt16.Type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(type as UInt32.Type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(type as UInt64.Type, key) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }

    private func decode<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        let (schema, value) = try reflector.describe(type)
        recording.record(key.stringValue, schema, required: true)
        return value
    }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        recording.record(key.stringValue, try reflector.schema(of: type), required: false)
        return nil
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw Unreflectable(description: "\(key.stringValue) is read through a nested container")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw Unreflectable(description: "\(key.stringValue) is read through a nested container")
    }

    func superDecoder() throws -> any Decoder { throw Unreflectable(description: "a super decoder is read") }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw Unreflectable(description: "a super decoder is read") }
}

/// A value decoded whole (a wrapper around a string, say): its schema is that of what it reads.
private struct SingleValueReflection: SingleValueDecodingContainer {
    let reflector: Reflector
    let recording: Recording
    var codingPath: [any CodingKey] = []

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (schema, value) = try reflector.describe(type)
        recording.single = schema
        return value
    }
}

/// Types whose schema is fixed, with a value to go on with.
private protocol ReflectedLeaf {
    static var reflectedSchema: JSONSchema { get }
    static var placeholder: Self { get }
}

extension String: ReflectedLeaf {
    fileprivate static var reflectedSchema: JSONSchema { .string }
    fileprivate static var placeholder: String { "" }
}

extension Bool: ReflectedLeaf {
    fileprivate static var reflectedSchema: JSONSchema { .boolean }
    fileprivate static var placeholder: Bool { false }
}

extension Double: ReflectedLeaf {
    fileprivate static var reflectedSchema: JSONSchema { .number }
    fileprivate static var placeholder: Double { 0 }
}

extension Float: ReflectedLeaf {
    fileprivate static var reflectedSchema: JSONSchema { .number }
    fileprivate static var placeholder: Float { 0 }
}

extension Date: ReflectedLeaf {
    fileprivate static var reflectedSchema: JSONSchema { .dateTime }
    fileprivate static var placeholder: Date { Date(timeIntervalSince1970: 0) }
}

extension UUID: ReflectedLeaf {
    fileprivate static var reflectedSchema: JSONSchema { .id }
    fileprivate static var placeholder: UUID { UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) }
}

/// Whole numbers: `Int`, `Int64` and the others.
private protocol ReflectedInteger: ReflectedLeaf, FixedWidthInteger {}

extension ReflectedInteger {
    fileprivate static var reflectedSchema: JSONSchema { .integer }
    fileprivate static var placeholder: Self { 0 }
}

extension Int: ReflectedInteger {}
extension Int8: ReflectedInteger {}
extension Int16: ReflectedInteger {}
extension Int32: ReflectedInteger {}
extension Int64: ReflectedInteger {}
extension UInt: ReflectedInteger {}
extension UInt8: ReflectedInteger {}
extension UInt16: ReflectedInteger {}
extension UInt32: ReflectedInteger {}
extension UInt64: ReflectedInteger {}

private protocol ReflectedArray {
    static var elementType: any Decodable.Type { get }
    static var empty: Self { get }
}

extension Array: ReflectedArray where Element: Decodable {
    fileprivate static var elementType: any Decodable.Type { Element.self }
    fileprivate static var empty: Self { [] }
}

private protocol ReflectedDictionary {
    static var valueType: any Decodable.Type { get }
    static var empty: Self { get }
}

extension Dictionary: ReflectedDictionary where Key == String, Value: Decodable {
    fileprivate static var valueType: any Decodable.Type { Value.self }
    fileprivate static var empty: Self { [:] }
}

private protocol ReflectedOptional {
    static var wrappedType: any Decodable.Type { get }
    static var absent: Self { get }
}

extension Optional: ReflectedOptional where Wrapped: Decodable {
    fileprivate static var wrappedType: any Decodable.Type { Wrapped.self }
    fileprivate static var absent: Self { nil }
}
