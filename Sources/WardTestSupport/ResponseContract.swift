package import Foundation
package import HTTPTypes
package import HummingbirdTesting
package import NIOCore

/// The OpenAPI document as a contract on responses: every response a test receives from a
/// documented operation must have a documented status, a documented media type and, for JSON,
/// a body valid against the schema documented for that status. A test client wraps every
/// route test in it (`TestNode.test`), so the document cannot drift from the code.
///
/// The validator covers the JSON Schema keywords the document uses (`type`, `enum`, `const`,
/// `properties`, `required`, `additionalProperties`, `items`, `$ref`, `oneOf`, lengths,
/// bounds, `pattern`, `format` date and date-time); a keyword it does not know fails the check
/// rather than passing unexamined.
// Unchecked: the document is parsed once and only read afterwards.
package final class ResponseContract: @unchecked Sendable {
    private let paths: [(template: [Substring], operations: [String: Any])]
    private let components: [String: Any]

    package init(document data: Data) throws {
        let document = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        components = document["components"] as? [String: Any] ?? [:]
        paths = (document["paths"] as? [String: Any] ?? [:]).map { path, operations in
            (path.split(separator: "/", omittingEmptySubsequences: false), operations as? [String: Any] ?? [:])
        }
    }

    /// A response the document does not describe.
    package struct Violation: Error, CustomStringConvertible {
        package let description: String
    }

    /// What is wrong with `response` to `method uri`, or nil when the document describes it
    /// (or describes no such operation: unknown routes and methods are the edge's to answer).
    package func violation(method: HTTPRequest.Method, uri: String, status: Int, contentType: String?, body: ByteBuffer) -> String? {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        guard let operation = operation(method: method, path: path) else { return nil }
        let label = "\(method.rawValue) \(path) → \(status)"
        guard let responses = operation["responses"] as? [String: Any], var response = responses[String(status)] as? [String: Any] else {
            return "\(label): the document lists no \(status) for this operation"
        }
        if let reference = response["$ref"] as? String {
            guard let resolved = resolve(reference) else { return "\(label): unresolvable \(reference)" }
            response = resolved
        }
        guard let content = response["content"] as? [String: Any] else {
            return body.readableBytes == 0 ? nil : "\(label): documented without a body, answered \(body.readableBytes) bytes"
        }
        let mediaType = Self.base(contentType ?? "")
        guard let entry = content.first(where: { Self.base($0.key) == mediaType }) else {
            return "\(label): Content-Type \(contentType ?? "none") is not among \(content.keys.sorted())"
        }
        guard mediaType == "application/json" || mediaType.hasSuffix("+json"),
              let schema = (entry.value as? [String: Any])?["schema"] as? [String: Any] else { return nil }
        guard let value = try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed]) else {
            return "\(label): the body is not JSON"
        }
        var problems: [String] = []
        validate(value, against: schema, at: "body", into: &problems)
        return problems.isEmpty ? nil : "\(label): " + problems.prefix(5).joined(separator: "; ")
    }

    private func operation(method: HTTPRequest.Method, path: String) -> [String: Any]? {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        for entry in paths where entry.template.count == components.count {
            let matches = zip(entry.template, components).allSatisfy { template, actual in
                template.hasPrefix("{") ? !actual.isEmpty : template == actual
            }
            if matches, let operation = entry.operations[method.rawValue.lowercased()] as? [String: Any] { return operation }
        }
        return nil
    }

    private func resolve(_ reference: String) -> [String: Any]? {
        let parts = reference.split(separator: "/").dropFirst()   // "#"
        guard parts.first == "components" else { return nil }
        var node: Any? = components
        for part in parts.dropFirst() { node = (node as? [String: Any])?[String(part)] }
        return node as? [String: Any]
    }

    private static func base(_ mediaType: String) -> String {
        (mediaType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "").lowercased()
    }

    private static let known: Set<String> = [
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "oneOf", "minLength", "maxLength",
        "minimum", "maximum", "minItems", "maxItems", "maxProperties", "propertyNames", "pattern", "format", "description",
    ]
    private static let booleanType = type(of: NSNumber(value: true))

    private func validate(_ value: Any, against schema: [String: Any], at location: String, into problems: inout [String]) {
        if let unknown = schema.keys.first(where: { !Self.known.contains($0) }) {
            return problems.append("\(location): the contract cannot check the keyword \(unknown)")
        }
        if let reference = schema["$ref"] as? String {
            guard let resolved = resolve(reference) else { return problems.append("\(location): unresolvable \(reference)") }
            return validate(value, against: resolved, at: location, into: &problems)
        }
        if let choices = schema["oneOf"] as? [[String: Any]] {
            let matching = choices.filter { choice in
                var nested: [String] = []
                validate(value, against: choice, at: location, into: &nested)
                return nested.isEmpty
            }
            if matching.count != 1 { problems.append("\(location) matches \(matching.count) of oneOf's \(choices.count) schemas") }
        }
        if let types = schema["type"].map({ $0 as? [String] ?? [$0 as? String ?? ""] }), !types.contains(where: { Self.value(value, is: $0) }) {
            return problems.append("\(location) is \(Self.describe(value)), not \(types.joined(separator: " or "))")
        }
        if let choices = schema["enum"] as? [Any], !choices.contains(where: { Self.equal($0, value) }) {
            problems.append("\(location) = \(Self.describe(value)) is not one of \(choices)")
        }
        if let constant = schema["const"], !Self.equal(constant, value) {
            problems.append("\(location) = \(Self.describe(value)) is not \(Self.describe(constant))")
        }
        if let text = value as? String {
            if let minimum = schema["minLength"] as? Int, text.count < minimum { problems.append("\(location) is shorter than \(minimum)") }
            if let maximum = schema["maxLength"] as? Int, text.count > maximum { problems.append("\(location) is longer than \(maximum)") }
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(location) does not match \(pattern)")
            }
            switch schema["format"] as? String {
            case "date-time": if Self.dateTime.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil { problems.append("\(location) is not a date-time") }
            case "date": if Self.date.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil { problems.append("\(location) is not a date") }
            default: break
            }
        }
        if let number = value as? NSNumber, type(of: value) != Self.booleanType {
            if let minimum = schema["minimum"] as? Double, number.doubleValue < minimum { problems.append("\(location) is below \(minimum)") }
            if let maximum = schema["maximum"] as? Double, number.doubleValue > maximum { problems.append("\(location) is above \(maximum)") }
        }
        if let array = value as? [Any] {
            if let minimum = schema["minItems"] as? Int, array.count < minimum { problems.append("\(location) has fewer than \(minimum) items") }
            if let maximum = schema["maxItems"] as? Int, array.count > maximum { problems.append("\(location) has more than \(maximum) items") }
            if let items = schema["items"] as? [String: Any] {
                for (index, item) in array.enumerated() { validate(item, against: items, at: "\(location)[\(index)]", into: &problems) }
            }
        }
        if let object = value as? [String: Any] {
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { problems.append("\(location) lacks \(name)") }
            if let maximum = schema["maxProperties"] as? Int, object.count > maximum { problems.append("\(location) has more than \(maximum) properties") }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (name, member) in object {
                if let names = schema["propertyNames"] as? [String: Any] { validate(name, against: names, at: "\(location) key \(name)", into: &problems) }
                if let property = properties[name] as? [String: Any] {
                    validate(member, against: property, at: "\(location).\(name)", into: &problems)
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    validate(member, against: additional, at: "\(location).\(name)", into: &problems)
                } else if (schema["additionalProperties"] as? Bool) == false {
                    problems.append("\(location) has \(name), which its schema does not allow")
                }
            }
        }
    }

    private static let dateTime = try! NSRegularExpression(pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#)
    private static let date = try! NSRegularExpression(pattern: #"^\d{4}-\d{2}-\d{2}$"#)

    private static func value(_ value: Any, is type: String) -> Bool {
        let isBoolean = Swift.type(of: value) == booleanType
        switch type {
        case "null": return value is NSNull
        case "boolean": return isBoolean
        case "integer": return !isBoolean && (value as? NSNumber).map { $0.doubleValue.rounded() == $0.doubleValue } == true
        case "number": return !isBoolean && value is NSNumber
        case "string": return value is String
        case "array": return value is [Any]
        case "object": return value is [String: Any]
        default: return false
        }
    }

    private static func equal(_ choice: Any, _ value: Any) -> Bool {
        switch (choice, value) {
        case (is NSNull, is NSNull): true
        case (let a as String, let b as String): a == b
        case (let a as NSNumber, let b as NSNumber): a == b
        default: false
        }
    }

    private static func describe(_ value: Any) -> String {
        value is NSNull ? "null" : value is String ? "\"\(value)\"" : "\(value)"
    }
}

/// A test client whose every response is held to the document (`ResponseContract`): a
/// response the document does not describe fails the test that received it.
package struct DocumentedClient: TestClientProtocol {
    let base: any TestClientProtocol
    let contract: ResponseContract

    package init(_ base: any TestClientProtocol, contract: ResponseContract) {
        self.base = base
        self.contract = contract
    }

    package var port: Int? { base.port }

    package func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        let response = try await base.executeRequest(uri: uri, method: method, headers: headers, body: body)
        if let violation = contract.violation(method: method, uri: uri, status: Int(response.status.code),
                                              contentType: response.headers[.contentType], body: response.body) {
            throw ResponseContract.Violation(description: "response outside the OpenAPI document: \(violation)")
        }
        return response
    }
}
