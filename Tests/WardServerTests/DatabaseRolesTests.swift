import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import SQLKit
import Testing
import WardAudit
import WardCore
import WardServer
import WardStorage
import WardTestSupport

@Suite("PostgreSQL roles and TLS")
struct DatabaseRolesTests {
    static let password = "correct-stable-fossil-lamp"

    @Test("the serving role reads and writes a clinic's rows, but PostgreSQL refuses it any schema change and any change to the audit trail")
    func leastPrivilege() async throws {
        try await withSeparateRolesSite { site, ownerURL in
            try await TestNode.with(site, settings: ["DATABASE_OWNER_URL": ownerURL]) { node in
                // The owner provisions the clinic (schema, migrations, grants); everything after
                // runs as the serving role: a user, a login, a patient, audited reads.
                let tenants = node.services.storage.tenants
                let tenant = try await tenants.create(slug: "acme", name: "Acme")
                let scope = try await tenants.activeScope(slug: "acme")
                _ = try await node.services.identity.createUser(in: scope, email: "doc@acme.test", name: "Dr Who", password: Self.password,
                                                                roles: ["doctor"], by: .system)
                try await node.test { client in
                    let login = try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                                         body: ByteBuffer(string: #"{"tenant":"acme","email":"doc@acme.test","password":"\#(Self.password)"}"#))
                    let token = try #require(login.json["access_token"] as? String)
                    let created = try await client.execute(
                        uri: "/api/v1/patients", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                        body: ByteBuffer(string: #"{"given_name":"Ada","family_name":"Lovelace","birth_date":"1815-12-10","phone":"+44 20 7946 0958"}"#)
                    )
                    #expect(created.status == .created, "\(created.text)")
                    let id = try #require(created.json["id"] as? String)
                    #expect(try await client.execute(uri: "/api/v1/patients/\(id)", method: .get, headers: [.authorization: "Bearer \(token)"]).status == .ok)
                }
                await node.services.audit.moveJournal(everything: true, tenants: tenants)
                let trail = try await AuditStore.verify(scope)
                #expect(trail.firstBreak == nil)
                #expect(trail.checked >= 3)

                // The serving role, as an attacker holding its connection would use it.
                let serving = try PostgresDatabase(url: try #require(site.databaseURL), limits: .init(maximumConnections: 1), logger: TestLogs.quiet)
                defer { Task { await serving.shutdown() } }
                let refused = [
                    "DROP TABLE t_acme.patients", "ALTER TABLE t_acme.patients ADD COLUMN note TEXT", "CREATE TABLE t_acme.stolen (id INT)",
                    "DROP SCHEMA t_acme CASCADE", "CREATE SCHEMA t_evil", "CREATE TABLE public.stolen (id INT)", "CREATE TEMP TABLE stolen (id INT)",
                    "UPDATE t_acme.audit_events SET action = 'nothing'", "DELETE FROM t_acme.audit_events", "TRUNCATE t_acme.audit_events",
                    "UPDATE t_acme.audit_retention SET through_seq = 0", "DELETE FROM t_acme.audit_patient_events",
                    "UPDATE t_acme.ward_migrations SET checksum = 'x'", "DELETE FROM platform.ward_migrations",
                    "ALTER TABLE platform.tenants DISABLE TRIGGER USER", "DROP TABLE platform.tenants",
                ]
                for statement in refused {
                    let error = await #expect(throws: PSQLError.self, "\(statement)") {
                        try await serving.read { database in try await database.raw(SQLQueryString(statement)).run() }
                    }
                    // Refused for want of privilege (42501), not by a trigger that an owner could drop.
                    #expect(error?.serverInfo?[.sqlState] == "42501", "\(statement): \(String(reflecting: error))")
                }
                // What serving needs stays allowed: rows read and written, the trail appended to.
                let rows = try await serving.read { database in
                    try await database.raw("UPDATE t_acme.patients SET updated_at = updated_at RETURNING id").all().count
                }
                #expect(rows == 1)

                // Audit retention is the owner's: on the serving role's scope PostgreSQL refuses
                // it, on the maintenance scope it removes the events and the chain still verifies.
                let retention = AuditRetention(trail: node.services.audit)
                let future = Date().addingTimeInterval(86_400)
                let denied = await #expect(throws: PSQLError.self) { try await retention.apply(in: scope, before: future) }
                #expect(denied?.serverInfo?[.sqlState] == "42501")
                let removed = try await retention.apply(in: try await tenants.maintenanceScope(for: tenant), before: future)
                #expect(removed >= 2)
                #expect(try await AuditStore.verify(scope).firstBreak == nil)

                // The deploy check sees a serving role without powers; the owner would not pass.
                let findings = await DeployCheck.run(node.services.settings, storage: node.services.storage)
                let role = try #require(findings.first { $0.name == "database role" })
                #expect(role.passed, "\(role.detail)")
                let ownerSettings = try site.settings(["DATABASE_URL": ownerURL])
                try await site.withStorage(settings: ownerSettings) { ownerStorage in
                    let asOwner = await DeployCheck.run(ownerSettings, storage: ownerStorage)
                    let ownerRole = try #require(asOwner.first { $0.name == "database role" })
                    #expect(!ownerRole.passed)
                    #expect(ownerRole.detail.contains("owns"), "\(ownerRole.detail)")
                }

                // Purging the clinic drops its schema, as the owner.
                await tenants.removeDatabase(of: try TenantSlug("acme"))
                #expect(try await tenants.databaseExists("acme") == false)
            }
        }
    }

    @Test("a serving role without its grants gets them back from the owner, and the two must be different roles")
    func grantsRepaired() async throws {
        try await withSeparateRolesSite { site, ownerURL in
            try await TestNode.with(site, settings: ["DATABASE_OWNER_URL": ownerURL]) { node in
                let storage = node.services.storage
                try await storage.tenants.create(slug: "acme", name: "Acme")
                let owner = try #require(storage.owner)
                let role = try #require(node.services.settings.databaseRole)
                try await owner.read { database in
                    try await database.raw(SQLQueryString("REVOKE ALL ON ALL TABLES IN SCHEMA t_acme FROM \(role)")).run()
                }
                let serving = try PostgresDatabase(url: try #require(site.databaseURL), limits: .init(maximumConnections: 1), logger: TestLogs.quiet)
                defer { Task { await serving.shutdown() } }
                func countPatients() async throws -> Int {
                    try await serving.read { database in try await database.raw("SELECT COUNT(*) AS n FROM t_acme.patients").first()?.decode(column: "n", as: Int.self) ?? -1 }
                }
                await #expect(throws: PSQLError.self) { try await countPatients() }
                try await storage.grantServingAccess()
                #expect(try await countPatients() == 0)
            }
            #expect(throws: SettingsError.self) { try site.settings(["DATABASE_OWNER_URL": try #require(site.databaseURL)]) }
        }
        #expect(throws: SettingsError.self) { try WardSettings(given: [.databaseOwnerURL: "postgres://owner@localhost/ward"]) }
    }

    @Test("sslmode is read as libpq reads it: verify-full checks the CA file and the host name, verify-ca the CA, require only encrypts")
    func tls() async throws {
        guard let server = try TestPostgresServer.fromEnvironment() else { return }
        guard let ca = ProcessInfo.processInfo.environment["WARD_TEST_POSTGRES_CA"], !ca.isEmpty else {
            // scripts/test starts the throwaway server with TLS and exports its CA.
            Issue.record("WARD_TEST_POSTGRES_CA is not set: run the tests through scripts/test, or point it at the CA of WARD_TEST_POSTGRES_URL's certificate")
            return
        }
        func url(host: String, _ query: String) -> String {
            var url = server.adminURL
            url.host = host
            return url.string! + "?" + query
        }
        /// Whether one connection is encrypted; throws when it is refused.
        func encrypted(_ url: String) async throws -> Bool {
            try await PostgresDatabase.probeEncryption(url: url, logger: TestLogs.quiet)
        }
        #expect(try await encrypted(url(host: "localhost", "sslmode=verify-full&sslrootcert=\(ca)")))
        #expect(try await encrypted(url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(ca)")))
        #expect(try await encrypted(url(host: "127.0.0.1", "sslmode=require")))
        #expect(try await encrypted(url(host: "127.0.0.1", "sslmode=disable")) == false)
        // The certificate names localhost, not the address; and no system CA signed it.
        await #expect(throws: (any Error).self) { try await encrypted(url(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(ca)")) }
        await #expect(throws: (any Error).self) { try await encrypted(url(host: "localhost", "sslmode=verify-full")) }
        await #expect(throws: (any Error).self) { try await encrypted(url(host: "localhost", "sslmode=verify-ca&sslrootcert=system")) }
        #expect(throws: StorageError.self) { try PostgresDatabase(url: url(host: "localhost", "sslmode=verify-full&sslrootcert=/nonexistent/ca.crt"), limits: .init(), logger: TestLogs.quiet) }
        #expect(throws: StorageError.self) { try PostgresDatabase(url: url(host: "localhost", "sslmode=verify-everything"), limits: .init(), logger: TestLogs.quiet) }

        // A node's pools use the same settings: its control plane over verified TLS.
        let name = "ward_tls_\(UUID().uuidString.prefix(8).lowercased())"
        try await server.createDatabase(name)
        do {
            var nodeURL = server.adminURL
            nodeURL.host = "localhost"
            nodeURL.path = "/" + name
            let settings = try WardSettings(given: [.databaseURL: nodeURL.string! + "?sslmode=verify-full&sslrootcert=\(ca)", .dataDirectory: NSTemporaryDirectory()])
            let storage = try await Storage(settings: settings, tenantMigrations: [], logger: TestLogs.quiet)
            let ssl = try await storage.controlPlane.read { database in
                try await database.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first()?.decode(column: "ssl", as: Bool.self)
            }
            await storage.shutdown()
            #expect(ssl == true)
        } catch {
            try? await server.dropDatabase(name)
            throw error
        }
        try await server.dropDatabase(name)

        // The deploy check passes verify-full only.
        for (query, passes) in [("sslmode=verify-full&sslrootcert=\(ca)", true), ("sslmode=require", false), ("sslmode=verify-ca&sslrootcert=\(ca)", false)] {
            let settings = try WardSettings(given: [.databaseURL: url(host: "localhost", query), .dataDirectory: NSTemporaryDirectory()])
            let finding = try #require(await DeployCheck.run(settings, storage: nil).first { $0.name == "database TLS" })
            #expect(finding.passed == passes, "\(query): \(finding.detail)")
        }
    }
}
