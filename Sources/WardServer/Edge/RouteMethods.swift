import HTTPTypes
import Hummingbird
import WardCore
import WardHTTP

/// Which methods each documented path answers, so a known path asked with another method (TRACE
/// included) is answered 405 with `Allow` rather than 404. Consulted only when the router found
/// no route.
struct RouteMethods: Sendable {
    private let operations: [(template: APIOperation, method: String)]

    init(_ operations: [APIOperation]) {
        self.operations = operations.map { ($0, $0.method.rawValue.uppercased()) }
    }

    /// The methods `path` answers, sorted; nil when no operation has this path.
    func allowed(for path: String) -> [String]? {
        let methods = Set(operations.filter { $0.template.matches(path: path[...]) }.map(\.method))
        return methods.isEmpty ? nil : methods.sorted()
    }
}

/// A known path asked with a method it does not answer: 405.
struct MethodNotAllowed: Error, ProblemConvertible {
    let allowed: [String]
    var problem: Problem {
        Problem(status: 405, title: "Method not allowed", detail: "This path answers \(allowed.joined(separator: ", ")).")
    }
}
