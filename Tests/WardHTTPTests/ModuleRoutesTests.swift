import Testing
import WardHTTP

@Suite("Module routes")
struct ModuleRoutesTests {
    @Test("a module binding a handler to an undeclared operation, or leaving one unbound, stops the node from being built")
    func badBindings() throws {
        let declared = [
            APIOperation("first", .get, "/first", summary: "first", tag: "test"),
            APIOperation("second", .get, "/second", summary: "second", tag: "test"),
        ]
        var unknown = ModuleRoutes(module: "broken", operations: declared)
        unknown.on("first") { _, _ in "1" }
        unknown.on("second") { _, _ in "2" }
        unknown.on("third") { _, _ in "3" }
        #expect(throws: ModuleError.badBinding("broken binds a handler to third, which it does not declare")) { try unknown.complete() }

        var unbound = ModuleRoutes(module: "broken", operations: declared)
        unbound.on("second") { _, _ in "2" }
        #expect(throws: ModuleError.badBinding("broken declares first but binds no handler to it")) { try unbound.complete() }

        var twice = ModuleRoutes(module: "broken", operations: declared)
        twice.on("first") { _, _ in "1" }
        twice.on("first") { _, _ in "1 again" }
        twice.on("second") { _, _ in "2" }
        #expect(throws: ModuleError.badBinding("broken binds two handlers to first")) { try twice.complete() }
    }

    @Test("an operation's template matches its paths, names its parameters with their formats, and nothing else")
    func templates() {
        let operation = APIOperation("grantRole", .put, "/api/v1/users/{id}/roles/{role}", summary: "grant", tag: "identity", access: .staff)
        #expect(operation.matches(path: "/api/v1/users/0190aaaa/roles/doctor"))
        #expect(!operation.matches(path: "/api/v1/users//roles/doctor"))
        #expect(!operation.matches(path: "/api/v1/users/0190aaaa/roles"))
        #expect(!operation.matches(path: "/api/v1/users/0190aaaa/groups/doctor"))
        #expect(operation.pathParameters.map(\.name) == ["id", "role"])
        #expect(operation.tenantScoped)
        #expect(!APIOperation("health", .get, "/health", summary: "up", tag: "operations").tenantScoped)
    }
}
