import Foundation
package import Hummingbird
package import WardCore

/// Decodes JSON request bodies, refusing text no database can store before any of it is used,
/// and a body of another shape than the operation declares (`BodyShape`).
///
/// JSON may carry a NUL or another control character as an escape (`\u0000`); PostgreSQL
/// cannot store NUL in text at all, and SQLite would store what PostgreSQL refuses, so one
/// tenant's data would differ by database. A body holding one is refused with 422 naming the
/// field, the same on both. The scan is over the raw bytes and finds nothing in an ordinary
/// body; only a body that has one is parsed a second time, to name the field.
package struct JSONBodyDecoder: RequestDecoder {
    private static let decoder = JSONDecoder()
    /// The shape of the operation's request body; nil where the operation declares none.
    let shape: BodyShape?

    package init(shape: BodyShape? = nil) {
        self.shape = shape
    }

    package func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let unstorable = buffer.withUnsafeReadableBytes { Self.hasUnstorableEscape($0) }
        if unstorable {
            let field = Self.fieldHoldingControlCharacter(in: Data(buffer.readableBytesView)) ?? "the body"
            throw UnstorableText(field: field)
        }
        // The shape is scanned first (a body of another shape is 422 naming the field), but a
        // body that is not JSON at all stays a 400: the scan stops at the first problem, so
        // only then is the whole text checked.
        if let shape, let problem = buffer.withUnsafeReadableBytes({ shape.problem(in: $0) }),
           (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: .fragmentsAllowed)) != nil {
            throw InvalidBody(error: problem)
        }
        return try Self.decoder.decode(T.self, from: buffer)
    }

    /// Whether the JSON text holds an escape of a control character other than tab, line feed
    /// and carriage return (raw control characters are not valid JSON and fail to decode).
    static func hasUnstorableEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            guard bytes[index] == UInt8(ascii: "\\") else { index += 1; continue }
            guard index + 1 < count else { return false }
            if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < count,
               bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
               let high = hexValue(bytes[index + 4]), let low = hexValue(bytes[index + 5]) {
                let scalar = high << 4 | low
                if scalar < 0x20 && scalar != 0x09 && scalar != 0x0A && scalar != 0x0D { return true }
            }
            // Skip the escaped character too, so `\\u0000` (a backslash, then text) is not one.
            index += 2
        }
        return false
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The dotted path of the first string (or key) holding an unstorable character.
    static func fieldHoldingControlCharacter(in data: Data) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        func search(_ value: Any, path: String) -> String? {
            switch value {
            case let text as String:
                return TextRules.hasUnstorableCharacter(text) ? path : nil
            case let object as [String: Any]:
                for key in object.keys.sorted() {
                    let child = path.isEmpty ? key : path + "." + key
                    if TextRules.hasUnstorableCharacter(key) { return child }
                    if let found = search(object[key]!, path: child) { return found }
                }
                return nil
            case let array as [Any]:
                for (index, element) in array.enumerated() {
                    if let found = search(element, path: path.isEmpty ? String(index) : path + "." + String(index)) { return found }
                }
                return nil
            default:
                return nil
            }
        }
        return search(root, path: "")
    }
}

/// Text no database can store (a NUL, another control character): 422, naming the field.
package struct UnstorableText: Error, ProblemConvertible {
    package let field: String
    package var problem: Problem {
        let message = "must not contain control characters"
        return Problem(status: 422, title: "Invalid input", detail: "\(field) \(message).", errors: [.init(field: field, message: message)])
    }
}

/// A body of another shape than the operation declares (an unknown field, a null, a value of
/// the wrong type): 422, naming the field.
package struct InvalidBody: Error, ProblemConvertible {
    package let error: Problem.FieldError
    package var problem: Problem {
        Problem(status: 422, title: "Invalid input", detail: "\(error.field) \(error.message).", errors: [error])
    }
}

extension Request {
    /// The JSON body decoded as `type`, or nil when the request has none: an optional body
    /// that is sent must still be valid, never silently ignored.
    package func decodeIfPresent<Value: Decodable>(as type: Value.Type, context: WardRequestContext) async throws -> Value? {
        guard OperationGuard.hasBody(self) else { return nil }
        return try await decode(as: type, context: context)
    }
}
