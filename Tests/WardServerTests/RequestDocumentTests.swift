import Foundation
import Testing
import OpenAPIKit
import WardHTTP
import WardServer

/// The request side of the OpenAPI document says what the server enforces: closed request
/// objects, strings that cannot carry what the body decoder refuses, the statuses those
/// refusals answer, and rules (times, If-Match, text fields) the server checks the same way the
/// document's patterns read.
@Suite("Request document")
struct RequestDocumentTests {
    // Read once and never written: safe to share between the tests.
    nonisolated(unsafe) static let document = try! JSONSerialization.jsonObject(with: WardApplication.openAPIDocument()) as! [String: Any]
    nonisolated(unsafe) static let schemas = (document["components"] as! [String: Any])["schemas"] as! [String: Any]
    nonisolated(unsafe) static let paths = document["paths"] as! [String: [String: [String: Any]]]

    /// Whether `pattern` matches all of `text`, as a JSON Schema validator reads it.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let expression = try! NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..., in: text)
        return expression.firstMatch(in: text, range: range).map { $0.range == range } ?? false
    }

    static func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        return resolve(schemas[String(reference.split(separator: "/").last!)] as! [String: Any])
    }

    /// Every place in a request schema that breaks the rules, as `path: why`.
    static func faults(in schema: [String: Any], at path: String) -> [String] {
        let schema = resolve(schema)
        switch schema["type"] as? String {
        case "object":
            var faults: [String] = []
            if schema["additionalProperties"] == nil { faults.append("\(path): an open object (declare additionalProperties)") }
            if let extra = schema["additionalProperties"] as? [String: Any] { faults += self.faults(in: extra, at: path + ".*") }
            for (pattern, value) in (schema["patternProperties"] as? [String: Any]) ?? [:] {
                let admitted = ["\u{0}", "a\u{1}b", "x\u{1F}"].filter { matches(pattern, $0) }
                if !admitted.isEmpty { faults.append("\(path): its key pattern admits \(admitted)") }
                faults += self.faults(in: value as! [String: Any], at: path + ".*")
            }
            for (name, property) in (schema["properties"] as? [String: Any]) ?? [:] {
                faults += self.faults(in: property as! [String: Any], at: path + "." + name)
            }
            return faults
        case "array":
            return faults(in: schema["items"] as! [String: Any], at: path + "[]")
        case "string":
            if schema["enum"] != nil || ["date-time", "uuid"].contains(schema["format"] as? String) { return [] }
            guard let pattern = schema["pattern"] as? String else { return ["\(path): a string without a pattern"] }
            let refused = ["\u{0}", "a\u{1}b", "\u{1B}[0m", "x\u{1F}"]
            return refused.filter { matches(pattern, $0) }.map { "\(path): its pattern admits \($0.unicodeScalars.map { String($0.value, radix: 16) })" }
        default:
            return []
        }
    }

    @Test("every request body is a closed object whose strings refuse the control characters the decoder refuses; 422 is documented")
    func requestBodies() {
        var checked = 0
        for (path, operations) in Self.paths {
            for (method, operation) in operations {
                guard let body = operation["requestBody"] as? [String: Any] else { continue }
                let content = body["content"] as! [String: [String: Any]]
                guard let json = content["application/json"], json["schema"] != nil else {
                    // A raw upload (a file, or JSON of another's making such as Stripe's events):
                    // its accepted types are listed, and its refusals documented.
                    let responses = operation["responses"] as! [String: Any]
                    #expect(!content.isEmpty && content.keys.allSatisfy { $0.contains("/") && $0 != "*/*" }, "\(method) \(path)")
                    #expect(["413", "415", "422"].allSatisfy { responses[$0] != nil }, "\(method) \(path) does not document 413, 415 and 422")
                    continue
                }
                let schema = json["schema"] as! [String: Any]
                let faults = Self.faults(in: schema, at: "\(method) \(path)")
                #expect(faults.isEmpty, "\(faults)")
                let responses = operation["responses"] as! [String: Any]
                #expect(responses["422"] != nil, "\(method) \(path) does not document 422")
                checked += 1
            }
        }
        #expect(checked >= 20)
        // A patient's metadata takes the tenant's own keys, named by a pattern, with text values.
        let patient = Self.schemas["NewPatient"] as! [String: Any]
        let metadata = (patient["properties"] as! [String: Any])["metadata"] as! [String: Any]
        #expect((metadata["patternProperties"] as? [String: Any])?.count == 1)
    }

    @Test("a 204 has no content; If-Match is documented with its form and its statuses")
    func responsesAndHeaders() {
        for (path, method) in [("/api/v1/auth/logout", "post"), ("/api/v1/auth/password-reset", "post")] {
            let success = (Self.paths[path]![method]!["responses"] as! [String: Any])["204"] as! [String: Any]
            #expect(success["content"] == nil, "\(path)")
        }
        var versioned = 0
        for (path, operations) in Self.paths {
            for (method, operation) in operations {
                let parameters = (operation["parameters"] as? [[String: Any]]) ?? []
                guard let ifMatch = parameters.first(where: { $0["name"] as? String == "If-Match" }) else { continue }
                versioned += 1
                let responses = operation["responses"] as! [String: Any]
                #expect(responses["400"] != nil && responses["412"] != nil, "\(method) \(path)")
                #expect((responses["428"] != nil) == (ifMatch["required"] as? Bool == true), "\(method) \(path)")
                #expect((ifMatch["schema"] as? [String: Any])?["pattern"] as? String == IfMatch.pattern)
            }
        }
        #expect(versioned == 6)
    }

    @Test("If-Match is read as the document's pattern reads it")
    func ifMatchForm() {
        for (value, version) in [("\"3\"", 3), ("W/\"42\"", 42), ("\"000000000000000007\"", 7)] {
            #expect(IfMatch.version(value) == version)
            #expect(Self.matches(IfMatch.pattern, value))
        }
        for value in ["3", "\"3", "3\"", "W/3", "w/\"3\"", "\"\"", "\"-1\"", "\"1\", \"2\"", "*", "\"1234567890123456789\"", " \"3\"", "\"٣\""] {
            #expect(IfMatch.version(value) == nil, "\(value)")
            #expect(!Self.matches(IfMatch.pattern, value), "\(value)")
        }
    }

    @Test("RFC 3339 times: any offset to ±23:59, lower-case t and z, years 0000 to 9999 held to 0001–9999, proleptic Gregorian")
    func rfc3339() {
        func seconds(_ text: String) -> Double? { TextRules.rfc3339(text).map { ($0.timeIntervalSince1970 * 1000).rounded(.down) / 1000 } }
        #expect(seconds("1970-01-01T00:00:00Z") == 0)
        #expect(seconds("1970-01-01t00:00:00.5z") == 0.5)
        #expect(seconds("1970-01-01T23:59:00+23:59") == 0)
        #expect(seconds("1969-12-31T00:01:00-23:59") == 0)
        #expect(seconds("2000-02-29T12:00:00.123456789+05:30") == 951_805_800.123)
        // 1582-10-15 followed 1582-10-04 in the Julian calendar; the proleptic Gregorian count runs on.
        #expect(seconds("1582-10-15T00:00:00Z") == -12_219_292_800)
        #expect(seconds("0001-01-01T00:00:00Z") == -62_135_596_800)
        #expect(seconds("9999-12-31T23:59:59.999Z") == 253_402_300_799.999)
        // Held to the years' bounds when an offset, or the year 0000, takes it past them.
        #expect(seconds("0001-01-01T00:00:00+23:59") == -62_135_596_800)
        #expect(seconds("0000-12-31T23:50:39.000Z") == -62_135_596_800)
        #expect(seconds("0000-02-29T00:00:00Z") == -62_135_596_800, "0000 is a leap year in the proleptic Gregorian calendar")
        #expect(seconds("9999-12-31T23:59:59-23:59") == 253_402_300_799.999)
        for invalid in ["0000-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
                        "2024-01-01T00:00:60Z", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+23:60", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z",
                        "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+0100", "2024-1-01T00:00:00Z", "+2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z\n",
                        "２０２４-01-01T00:00:00Z", ""] {
            #expect(TextRules.rfc3339(invalid) == nil, "\(invalid)")
        }
    }

    @Test("text fields, emails and the storable rule: the server's check and the document's pattern agree")
    func textRules() {
        let samples = ["Ada", " Ada ", "", " ", "\u{A0}", "\u{3000}x", "A\tB", "A\nB", "A\rB", "A\u{B}B", "A\u{1}", "A\u{7F}", "\u{85}", "Zoë",
                       "名前", "🇫🇷", "a@b.c", "a@b.c\n", " a@b.c", "a@b", "a b@c.d", "a@b@c.d", "@b.c", "a@.c", "a@b.", "x\u{200B}y", "\u{FEFF}"]
        for field in [TextField.singleLine(max: 10), TextField.freeText(max: 10), TextField.freeText(min: 2, max: 10)] {
            let pattern = field.schema.stringContext!.pattern!
            for sample in samples where sample.unicodeScalars.count >= field.minLength && sample.unicodeScalars.count <= field.maxLength {
                #expect((field.problem(with: sample) == nil) == Self.matches(pattern, sample), "\(field.kind) \(sample.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
        // The bounded pattern of a single-line field (an object's keys) is its rule, lengths included.
        let key = TextField.singleLine(max: 3)
        for sample in samples + ["abcd", "abc", "a  ", "   ", "名前です"] {
            #expect((key.problem(with: sample) == nil) == Self.matches(key.boundedPattern, sample), "\(sample.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        for sample in samples {
            #expect(TextRules.isEmail(sample) == Self.matches(TextRules.emailPattern, sample), "\(sample.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(TextRules.hasUnstorableCharacter(sample) != Self.matches(TextRules.storablePattern, sample), "\(sample.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        #expect(TextRules.isEmail("a@b.c") && !TextRules.isEmail("a@b.c\n"))
    }

    struct Line: APIRequestBody { let code: String? }
    struct Order: APIRequestBody {
        let name: String?
        let count: Int?
        let ratio: Double?
        /// May be sent as null.
        let note: String??
        let tags: [String]?
        let extra: [String: String]?
        let lines: [Line]?
        let labels: [String: String]?
        /// `extra` takes anything.
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] { ["extra": .fragment] }
    }

    @Test("a body is scanned against its shape, read from its type: unknown fields, nulls and types named by path; escaped keys read; other values skipped")
    func bodyShape() {
        var schemas = SchemaBuilder(context: SchemaContext(passwordMinimumLength: 12, permissionNames: []))
        let shape = BodyShape(schema: schemas.reference(to: Order.self), components: schemas.components)
        func problem(_ text: String) -> String? {
            Array(text.utf8).withUnsafeBytes { shape.problem(in: $0) }.map { "\($0.field) \($0.message)" }
        }
        let fits = [
            #"{}"#, #" { "name" : "a" , "count" : 2, "ratio": 1.5, "note": null } "#, #"{"count": 2.0, "ratio": 3, "count": 1e2}"#,
            #"{"na\u006de": "escaped key"}"#, #"{"extra": {"deep": [[[[[{"x": "]}"}]]]]], "tail": true}, "name": "after"}"#,
            #"{"lines": [{"code": "A"}, {"code": "B"}], "labels": {"any key": "text"}, "tags": []}"#,
        ]
        for text in fits { #expect(problem(text) == nil, "\(text)") }
        let refused = [
            (#"{"nme": "typo"}"#, "nme is not a field of this request"),
            (#"{"name": null}"#, "name must not be null"),
            (#"{"name": 5}"#, "name must be a string"),
            (#"{"count": 1.5}"#, "count must be a whole number"),
            (#"{"count": "2"}"#, "count must be a whole number"),
            (#"{"tags": ["a", false]}"#, "tags.1 must be a string"),
            (#"{"lines": [{"code": "A"}, {"code": "B", "qty": 1}]}"#, "lines.1.qty is not a field of this request"),
            (#"{"labels": {"k": null}}"#, "labels.k must not be null"),
            (#"[]"#, "the body must be an object"),
            (#"null"#, "the body must not be null"),
        ]
        for (text, expected) in refused { #expect(problem(text) == expected, "\(text)") }
        // Text that is not JSON is left to the decoding (400), whatever it holds.
        for text in ["", "{", #"{"name": "a""#, #"{"name" "a"}"#, #"{"lines": [}"#] { #expect(problem(text) == nil, "\(text)") }
    }
}
