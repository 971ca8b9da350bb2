import Foundation
import Hummingbird
import Mustache
import NIOCore

/// Renders the web app's pages from the embedded templates.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        let templates = [LayoutTemplates.all, SignInTemplates.all, ClinicalTemplates.all, AdministrationTemplates.all, ConsoleTemplates.all, BillingTemplates.all]
        for (name, text) in templates.flatMap({ $0 }) { try library.register(text, named: name) }
        self.library = library
    }

    /// The HTML of `template` for `model`.
    func html(_ template: String, _ model: Any) -> String {
        // A missing template is a programming error the page tests catch.
        library.render(TemplateValues.wrap(model) ?? model, withTemplate: template)
            ?? "<!doctype html><title>Ward</title><p>This page could not be shown.</p>"
    }

    /// `template` rendered for `model` as a response.
    func page(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        Self.response(html(template, model), status: status)
    }

    static func response(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// A model as the templates read it: each struct's stored properties gathered into a
/// dictionary once, absent optionals left out. Left to itself the renderer reflects a value
/// anew for every name it looks up, walking all its properties each time: on the patient
/// search page that was two thirds of the CPU (Benchmarks/web-search, docs/performance.md).
struct TemplateValues: MustacheParent {
    let fields: [String: Any]

    func child(named name: String) -> Any? { fields[name] }

    static func wrap(_ value: Any) -> Any? {
        switch value {
        case let text as String: return text
        case let number as Int: return number
        case let flag as Bool: return flag
        case let html as SafeHTML: return html
        case let values as [Any]: return values.compactMap(wrap)
        default:
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                return mirror.children.first.flatMap { wrap($0.value) }
            case .struct, .class:
                var fields: [String: Any] = [:]
                for child in mirror.children {
                    if let label = child.label, let wrapped = wrap(child.value) { fields[label] = wrapped }
                }
                return TemplateValues(fields: fields)
            default:
                return value
            }
        }
    }
}

/// What the frame of every page shows: the clinic, the signed-in user, the menu of the pages
/// their permissions open, and the token the sign-out form carries.
struct Shell {
    let stylesheet = Asset.stylesheet.path
    let script = Asset.script.path
    /// Where the brand links to, and where the sign-out form posts: the staff's app or the console.
    var home = "/app"
    var signOutAction = "/app/sign-out"
    var clinic: String?
    var signedIn = false
    var userName = ""
    var formToken = ""
    var nav: [NavLink] = []
    /// Seconds without use after which the session ends (the script warns a minute before).
    var idleSeconds = 0
    var notice: String?
}

struct NavLink {
    let href: String
    let label: String
    let current: Bool
}

/// One labelled form field, with the value the user entered and the message about it.
struct Field {
    let id: String
    let name: String
    let label: String
    var type = "text"
    var value = ""
    var error: String?
    var hint: String?
    var required = false
    var autocomplete: String?
    var options: [Option] = []
    /// Stored, not computed: templates read values by reflection, which sees stored ones only.
    var isSelect = false
    var isTextarea = false
    var rows = 0

    struct Option {
        let value: String
        let text: String
        let selected: Bool
    }

    init(_ name: String, _ label: String, type: String = "text", value: String? = nil, hint: String? = nil, required: Bool = false,
         autocomplete: String? = nil) {
        self.id = "field-" + String(name.map { $0.isLetter || $0.isNumber ? $0 : "-" })
        self.name = name
        self.label = label
        self.type = type
        self.value = value ?? ""
        self.hint = hint
        self.required = required
        self.autocomplete = autocomplete
    }

    /// A multi-line text area of `rows` lines.
    static func textarea(_ name: String, _ label: String, value: String?, rows: Int, hint: String? = nil, required: Bool = false) -> Field {
        var field = Field(name, label, value: value, hint: hint, required: required)
        field.isTextarea = true
        field.rows = rows
        return field
    }

    /// A select of `choices` (value, text), with `value` selected.
    static func select(_ name: String, _ label: String, choices: [(String, String)], value: String?, required: Bool = false) -> Field {
        var field = Field(name, label, value: value, required: required)
        field.isSelect = true
        field.options = choices.map { Option(value: $0.0, text: $0.1, selected: $0.0 == (value ?? "")) }
        return field
    }
}

extension [Field] {
    /// Puts each field error on its field; returns the errors no field shows.
    mutating func attach(_ errors: [(field: String, message: String)]) -> [String] {
        var unplaced: [String] = []
        for error in errors {
            if let index = firstIndex(where: { $0.name == error.field }) {
                self[index].error = Self.sentence(label: self[index].label, message: error.message)
            } else {
                unplaced.append(Self.sentence(label: error.field.replacingOccurrences(of: "_", with: " "), message: error.message))
            }
        }
        return unplaced
    }

    /// "Birth date must be …": the API's field message read with the field's label.
    static func sentence(label: String, message: String) -> String {
        message.first?.isUppercase == true ? message : "\(label) \(message)."
    }
}
