package import Hummingbird


/// A module's route handlers, each bound to one of its declared operations by the operation's
/// name: reordering the declarations never moves a handler to another route, and a handler
/// naming no declared operation, or an operation left without one, stops the node from being
/// built (`ModuleError`).
package struct ModuleRoutes {
    package typealias Handler = @Sendable (Request, WardRequestContext) async throws -> Response

    /// The module whose routes these are, for messages.
    let module: String
    let declared: Set<String>
    private(set) var handlers: [String: Handler] = [:]
    private(set) var problems: [String] = []

    package init(module: String, operations: [APIOperation]) {
        self.module = module
        self.declared = Set(operations.map(\.name))
    }

    /// Binds `handler` to the operation named `name`.
    package mutating func on<Output: ResponseGenerator>(
        _ name: String, use handler: @escaping @Sendable (Request, WardRequestContext) async throws -> Output
    ) {
        guard declared.contains(name) else { return problems.append("\(module) binds a handler to \(name), which it does not declare") }
        guard handlers[name] == nil else { return problems.append("\(module) binds two handlers to \(name)") }
        handlers[name] = { request, context in try await handler(request, context).response(from: request, context: context) }
    }

    /// The handler of every declared operation, or the first thing wrong with the binding.
    package func complete() throws -> [String: Handler] {
        if let problem = problems.first { throw ModuleError.badBinding(problem) }
        if let unbound = declared.subtracting(handlers.keys).sorted().first {
            throw ModuleError.badBinding("\(module) declares \(unbound) but binds no handler to it")
        }
        return handlers
    }
}

/// A module that cannot be assembled: a programming error, found when the node is built.
package enum ModuleError: Error, CustomStringConvertible, Equatable {
    case badBinding(String)
    /// A service a module needs was not published by a module registered before it.
    case missingService(module: String, service: String)
    /// Two modules declare the same operation, permission, job kind or migration version.
    case conflict(String)

    package var description: String {
        switch self {
        case .badBinding(let message): message
        case .missingService(let module, let service): "\(module) needs \(service), which no module registered before it provides"
        case .conflict(let message): message
        }
    }
}
