import Foundation
import HTTPTypes
import Synchronization
import SQLKit
import Testing
import WardAudit
import WardCore
import WardIdentity
import WardJobs
import WardPlatform
import WardServer
import WardStorage
import WardTestSupport

@Suite("Tenant provisioning")
struct ProvisioningTests {
    @Test("a tenant provisioned through the API becomes active step by step; its administrator sets a password with the one-time link",
          arguments: TestBackend.allCases)
    func provisionThroughAPI(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs) { node in
                let services = node.services, logs = node.logs
                try await node.test { client in
                    let platform = try await services.platformToken(client)

                    let accepted = try await client.call(.post, "/platform/v1/tenants", token: platform, json: [
                        "slug": "north", "name": "North Clinic", "admin_email": "head@north.test", "admin_name": "Dr Head", "timezone": "Europe/Paris",
                    ])

                    #expect(accepted.status == .accepted)
                    #expect(accepted.headers[.location] == "/platform/v1/tenants/north")
                    let tenant = try #require(accepted.json["tenant"] as? [String: Any])
                    #expect(tenant["status"] as? String == "pending")
                    #expect((accepted.json["job"] as? [String: Any])?["state"] as? String == "queued")
                    #expect(try await client.call(.get, "/api/v1/tenant", tenant: "north").status == .forbidden)

                    #expect(try await services.work(until: "north", is: .active))

                    let detail = try await client.call(.get, "/platform/v1/tenants/north", token: platform)
                    #expect(detail.status == .ok)
                    #expect((detail.json["tenant"] as? [String: Any])?["status"] as? String == "active")
                    let steps = try #require(detail.json["steps"] as? [[String: Any]])
                    #expect(steps.map { $0["step"] as? String } == ProvisioningStep.allCases.map(\.rawValue))
                    #expect(steps.allSatisfy { $0["outcome"] as? String == "succeeded" && ($0["duration_ms"] as? Int ?? -1) >= 0 && $0["attempt"] as? Int == 1 })
                    #expect((detail.json["job"] as? [String: Any])?["state"] as? String == "succeeded")
                    #expect(try await client.call(.get, "/api/v1/tenant", tenant: "north").json["time_zone"] as? String == "Europe/Paris")

                    // The administrator has no password until the emailed one-time link is used.
                    #expect(try await client.login("head@north.test", tenant: "north").status == .unauthorized)
                    let messages = try await services.lifecycle.outbox.mail(tenant: "north")
                    #expect(messages.count == 1)
                    let welcome = try #require(messages.first)
                    #expect(welcome.recipient == "head@north.test" && welcome.template == "welcome")
                    let token = try #require(welcome.text.firstMatch(of: /set-password\?token=(\S+)/).map { String($0.1) })
                    let reset = try await client.call(.post, "/api/v1/auth/password-reset", json: ["token": token, "password": goodPassword])
                    #expect(reset.status.code < 300)
                    let login = try await client.login("head@north.test", tenant: "north")
                    #expect(login.status == .ok)
                    #expect(try await client.call(.post, "/api/v1/auth/password-reset", json: ["token": token, "password": goodPassword + "!"]).status == .unauthorized)

                    // The token never appears in a response or a log line.
                    #expect(!accepted.text.contains(token) && !detail.text.contains(token))
                    #expect(!logs.lines.contains { $0.contains(token) })

                    let scope = try await services.storage.tenants.activeScope(slug: "north")
                    let created = try await AuditStore.events(in: scope, filter: { var filter = AuditStore.Filter(); filter.action = "tenant_created"; return filter }(),
                                                              before: nil, limit: 10)
                    #expect(created.count == 1)

                    let metrics = try await client.call(.get, "/metrics").text
                    #expect(metrics.contains(#"provisioning_jobs_total{status="succeeded"} 1"#))
                    #expect(metrics.contains(#"provisioning_duration_seconds_count{step="migrate"} 1"#))
                    #expect(metrics.contains("active_tenants 1"))
                    #expect(metrics.contains("provisioning_queue_depth 0"))
                    #expect(metrics.contains(#"jobs_total{kind="tenant.provision",status="succeeded"} 1"#))
                    #expect(metrics.contains(#"queue_depth{kind="tenant.provision"} 0"#))
                }
            }
        }
    }

    @Test("the welcome step run again after a crash issues the same token, once, and it still sets the password", arguments: TestBackend.allCases)
    func welcomeTokenIdempotent(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs) { node in
                let services = node.services
                let order = try await services.lifecycle.requestProvisioning(.init(slug: "north", name: "North", adminEmail: "head@north.test", adminName: "Dr Head"))
                #expect(try await services.work(until: "north", is: .active))
                let messages = try await services.lifecycle.outbox.mail(tenant: "north")
                let sent = try #require(messages.first?.text.firstMatch(of: /set-password\?token=(\S+)/).map { String($0.1) })

                // The step's effects again, as a retry after a crash between the token and the
                // message would run them.
                let scope = try await services.storage.tenants.activeScope(slug: "north")
                let admin = try await services.identity.ensureAdministrator(in: scope, email: "head@north.test", name: "Dr Head", by: .system)
                let again = try await services.identity.issueWelcomeToken(for: admin, in: scope, by: .system)
                #expect(again.token == sent)
                let tokens = try await scope.database.read { db in
                    try await db.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n")
                        .from(try scope.table("password_reset_tokens")).where("user_id", .equal, admin).first()?.decode(column: "n", as: Int.self)
                }
                #expect(tokens == 1)

                try await node.test { client in
                    let reset = try await client.call(.post, "/api/v1/auth/password-reset", json: ["token": sent, "password": goodPassword])
                    #expect(reset.status.code < 300)
                    #expect(try await client.login("head@north.test", tenant: "north").status == .ok)
                }
            }
        }
    }

    @Test("a failure at each step is retried, then rolled back with nothing left over; a retry afterwards yields a working tenant",
          arguments: TestBackend.allCases, ProvisioningStep.allCases)
    func failureAtEachStep(_ backend: TestBackend, _ failing: ProvisioningStep) async throws {
        try await withTestSite(backend) { site in
            let broken = Mutex(true)
            let faults = ProvisioningFaults { step, attempt in
                if step == failing, broken.withLock({ $0 }) { throw InjectedFault(step: step, attempt: attempt) }
            }
            try await TestNode.with(site, settings: fastJobs, provisioningFaults: faults) { node in
                let lifecycle = node.services.lifecycle, tenants = node.services.storage.tenants
                try await node.services.identity.createPlatformAdmin(email: "ops@ward.test", name: "Olu Ops", password: goodPassword)
                let (tenant, job) = try await lifecycle.requestProvisioning(.init(slug: "south", name: "South Clinic", adminEmail: "head@south.test", adminName: "Dr South"))

                #expect(try await node.services.work(until: "south", is: .failed))
                // The control plane's administrators are told, once, with the step and error.
                let alerts = try await lifecycle.outbox.mail(tenant: nil).filter { $0.template == "provisioning_failed" }
                #expect(alerts.count == 1)
                #expect(alerts.first?.recipient == "ops@ward.test")
                #expect(alerts.first?.subject == "Provisioning of south failed")
                #expect(alerts.first?.text.contains(failing.rawValue) == true)

                let failed = try #require(try await tenants.fetch(slug: "south"))
                #expect(failed.lastError?.hasPrefix(failing.rawValue) == true)
                #expect(try await lifecycle.queue.find(job.id)?.state == .dead)
                #expect(try await !tenants.databaseExists("south"))
                // Nothing left to send (a welcome already sent before the failing step stays on record).
                let mailBeforeRetry = try await lifecycle.outbox.mail(tenant: "south")
                #expect(mailBeforeRetry.allSatisfy { $0.status != .queued })
                let log = try await lifecycle.log.entries(tenantID: tenant.id)
                #expect(log.filter { $0.outcome == "failed" }.map(\.attempt) == [1, 2])
                #expect(log.allSatisfy { $0.outcome != "failed" || $0.step == failing.rawValue })
                let steps = ProvisioningStep.allCases
                let expectedUndo = steps[...steps.firstIndex(of: failing)!].reversed().map(\.rawValue)
                #expect(log.filter { $0.outcome == "rolled_back" }.map(\.step) == Array(expectedUndo))

                broken.withLock { $0 = false }
                let retried = try await lifecycle.retry("south")
                #expect(retried.tenant.status == .pending)
                #expect(try await node.services.work(until: "south", is: .active))

                #expect(try await tenants.databaseExists("south"))
                let scope = try await tenants.activeScope(slug: "south")
                #expect(try await node.services.identity.users(in: scope).map(\.email) == ["head@south.test"])
                #expect(try await lifecycle.outbox.mail(tenant: "south").count == mailBeforeRetry.count + 1)
                await #expect(throws: TenantError.self) { try await lifecycle.retry("south") }
            }
        }
    }

    @Test("a request whose job cannot be queued leaves nothing behind: the slug stays free", arguments: TestBackend.allCases)
    func reservationWithItsJob(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs) { node in
                let services = node.services, lifecycle = services.lifecycle
                let jobs = backend == .sqlite ? "jobs" : "platform.jobs"
                try await services.storage.controlPlane.transaction { database in
                    try await database.raw(SQLQueryString("ALTER TABLE \(unsafeRaw: jobs) RENAME TO jobs_gone")).run()
                }
                await #expect(throws: (any Error).self) {
                    try await lifecycle.requestProvisioning(.init(slug: "south", name: "South", adminEmail: "a@south.test", adminName: "A"))
                }
                #expect(try await services.storage.tenants.fetch(slug: "south") == nil)

                try await services.storage.controlPlane.transaction { database in
                    try await database.raw(SQLQueryString("ALTER TABLE \(unsafeRaw: backend == .sqlite ? "jobs_gone" : "platform.jobs_gone") RENAME TO jobs")).run()
                }
                let (tenant, job) = try await lifecycle.requestProvisioning(.init(slug: "south", name: "South", adminEmail: "a@south.test", adminName: "A"))
                #expect(job.tenant == tenant.slug)
                #expect(try await services.work(until: "south", is: .active))
            }
        }
    }

    @Test("a step failing once is retried by the job and provisioning completes", arguments: TestBackend.allCases)
    func transientFailure(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let faults = ProvisioningFaults { step, attempt in
                if step == .migrate, attempt == 1 { throw InjectedFault(step: step, attempt: attempt) }
            }
            try await TestNode.with(site, settings: fastJobs, provisioningFaults: faults) { node in
                let lifecycle = node.services.lifecycle
                let (tenant, job) = try await lifecycle.requestProvisioning(.init(slug: "east", name: "East", adminEmail: "a@east.test", adminName: "A"))

                #expect(try await node.services.work(until: "east", is: .active))

                #expect(try await lifecycle.queue.find(job.id)?.attempts == 2)
                let log = try await lifecycle.log.entries(tenantID: tenant.id)
                #expect(log.filter { $0.step == "migrate" }.map(\.outcome) == ["failed", "succeeded"])
                #expect(!log.contains { $0.outcome == "rolled_back" })
            }
        }
    }

    @Test("a process killed mid-provisioning: another node finishes the tenant after the lease, each effect once", arguments: TestBackend.allCases)
    func killedMidway(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            // The first node dies while creating the administrator: its steps so far are done,
            // its job stays claimed by it and is never settled.
            let dies = ProvisioningFaults { step, _ in
                if step == .queueWelcomeEmail { throw InjectedFault(step: step, attempt: 1) }
            }
            var tenantID = ""
            try await TestNode.with(site, settings: fastJobs, provisioningFaults: dies) { crashed in
                let lifecycle = crashed.services.lifecycle
                let (tenant, _) = try await lifecycle.requestProvisioning(.init(slug: "west", name: "West", adminEmail: "a@west.test", adminName: "A"))
                tenantID = tenant.id
                let claimed = try #require(try await lifecycle.queue.claim(worker: "crashed-node", kinds: [TenantLifecycle.provisionKind], lease: .seconds(30)))
                let order = try claimed.decodePayload(as: ProvisioningOrder.self)
                await #expect(throws: InjectedFault.self) {
                    try await lifecycle.provisioner.provision(order, attempt: claimed.attempts, isFinal: false, jobID: claimed.id)
                }
            }
            try await TestNode.with(site, settings: fastJobs) { restarted in
                // The crashed node's lease runs out on the new node's clock, not the wall's.
                restarted.clock.advance(by: .seconds(31))
                #expect(try await restarted.services.work(until: "west", is: .active))

                let lifecycle = restarted.services.lifecycle
                let scope = try await restarted.services.storage.tenants.activeScope(slug: "west")
                #expect(try await restarted.services.identity.users(in: scope).count == 1)
                #expect(try await lifecycle.outbox.mail(tenant: "west").count == 1)
                let log = try await lifecycle.log.entries(tenantID: tenantID)
                #expect(log.filter { $0.attempt == 1 }.map(\.outcome).last == "failed")
                #expect(log.filter { $0.attempt == 2 }.map(\.step) == ProvisioningStep.allCases.map(\.rawValue))
                #expect(try await lifecycle.queue.list(kind: TenantLifecycle.provisionKind, tenant: "west").first?.attempts == 2)
            }
        }
    }
}

struct InjectedFault: Error, CustomStringConvertible {
    let step: ProvisioningStep
    let attempt: Int
    var description: String { "injected fault at \(step.rawValue) on attempt \(attempt)" }
}
