import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WardCore
import WardJobs
import WardPlatform
import WardServer
import WardStorage
import WardTestSupport

@Suite("Tenant lifecycle")
struct TenantLifecycleTests {
    @Test("a suspended tenant is refused and resumes intact; a deleted one is refused, restorable, then purged", arguments: TestBackend.allCases)
    func suspendResumeDelete(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs.merging(["WARD_TENANT_PURGE_GRACE_DAYS": "0"]) { $1 }) { node in
                let services = node.services
                try await services.lifecycle.provisionNow(.init(slug: "acme", name: "Acme"))
                let scope = try await services.storage.tenants.activeScope(slug: "acme")
                _ = try await services.identity.createUser(in: scope, email: "doc@acme.test", name: "Doc", password: goodPassword, roles: ["doctor"], by: .system)
                try await node.test { client in
                    let platform = try await services.platformToken(client)
                    let doctor = try #require(try await client.login("doc@acme.test", tenant: "acme").json["access_token"] as? String)
                    let created = try await client.call(.post, "/api/v1/patients", token: doctor, tenant: "acme",
                                                        json: ["given_name": "Ada", "family_name": "Okafor", "birth_date": "1980-02-01"])
                    #expect(created.status == .created)
                    let patient = try #require(created.json["id"] as? String)

                    let suspended = try await client.call(.post, "/platform/v1/tenants/acme/suspend", token: platform)
                    #expect(suspended.status == .ok)
                    #expect(suspended.json["status"] as? String == "suspended")
                    let refused = try await client.call(.get, "/api/v1/patients/\(patient)", token: doctor, tenant: "acme")
                    #expect(refused.status == .forbidden)
                    #expect(refused.headers[.contentType] == "application/problem+json")

                    #expect(try await client.call(.post, "/platform/v1/tenants/acme/resume", token: platform).json["status"] as? String == "active")
                    let back = try await client.call(.get, "/api/v1/patients/\(patient)", token: doctor, tenant: "acme")
                    #expect(back.status == .ok)
                    #expect(back.json["family_name"] as? String == "Okafor")

                    // Deleting refuses at once; resuming before the purge restores it intact.
                    let deleting = try await client.call(.delete, "/platform/v1/tenants/acme", token: platform)
                    #expect(deleting.status == .accepted)
                    #expect(deleting.json["status"] as? String == "deleting")
                    #expect(deleting.json["purge_after"] as? String != nil)
                    // The control plane keeps showing it, with its status, through the grace period.
                    let shown = try await client.call(.get, "/platform/v1/tenants/acme", token: platform)
                    #expect(shown.status == .ok)
                    #expect((shown.json["tenant"] as? [String: Any])?["status"] as? String == "deleting")
                    #expect(try await client.call(.get, "/api/v1/patients/\(patient)", token: doctor, tenant: "acme").status == .forbidden)
                    #expect(try await client.call(.post, "/platform/v1/tenants/acme/resume", token: platform).status == .ok)
                    #expect(try await client.call(.get, "/api/v1/patients/\(patient)", token: doctor, tenant: "acme").status == .ok)
                    let cancelled = try await services.queue.list(kind: TenantLifecycle.purgeKind, tenant: "acme")
                    #expect(cancelled.map(\.state) == [.cancelled])

                    // Deleted for good: the purge job removes its database.
                    let tenants = services.storage.tenants
                    let acmeID = try #require(try await tenants.fetch(slug: "acme")).id
                    let tenantKeys = TenantKeys(storage: services.storage, settings: services.settings)
                    // Its patient's fields are sealed under its data key…
                    #expect(try await tenantKeys.exists(acmeID))
                    #expect(try await client.call(.delete, "/platform/v1/tenants/acme", token: platform).status == .accepted)
                    // The purge job marks it deleted, then removes its database and what modules keep of it.
                    let purgeJobs = services.queue
                    #expect(try await services.work {
                        guard try await tenants.fetch(slug: "acme")?.status == .deleted else { return false }
                        return try await purgeJobs.list(kind: TenantLifecycle.purgeKind, tenant: "acme").contains { $0.state == .succeeded }
                    })
                    #expect(try await !tenants.databaseExists("acme"))
                    // …the key among them: any copy of its rows left anywhere stays sealed.
                    #expect(try await !tenantKeys.exists(acmeID))
                    #expect(try await client.call(.get, "/api/v1/tenant", tenant: "acme").status == .notFound)
                    // …and after the purge, as its slug stays reserved.
                    let purged = try await client.call(.get, "/platform/v1/tenants/acme", token: platform)
                    #expect(purged.status == .ok)
                    #expect((purged.json["tenant"] as? [String: Any])?["status"] as? String == "deleted")
                    let gone = try await client.call(.post, "/platform/v1/tenants/acme/resume", token: platform)
                    #expect(gone.status == .conflict)
                    let listed = try await client.call(.get, "/platform/v1/tenants?status=deleted", token: platform)
                    #expect((listed.json["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["acme"])
                }
            }
        }
    }

    @Test("provisioning requests are validated and change nothing when refused; tenants page with filters", arguments: TestBackend.allCases)
    func validationAndPaging(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site, settings: fastJobs) { node in
                let services = node.services
                for slug in ["alpha", "bravo", "charlie"] { try await services.lifecycle.provisionNow(.init(slug: slug, name: slug.capitalized)) }
                try await services.lifecycle.suspend("bravo", by: .system)
                try await node.test { client in
                    let platform = try await services.platformToken(client)
                    func provision(_ body: [String: Any]) async throws -> TestResponse {
                        try await client.call(.post, "/platform/v1/tenants", token: platform, json: body)
                    }

                    let badSlug = try await provision(["slug": "No Spaces!", "name": "X", "admin_email": "a@x.test"])
                    #expect(badSlug.status.code == 422)
                    #expect(badSlug.headers[.contentType] == "application/problem+json")
                    let badEmail = try await provision(["slug": "delta", "name": "Delta", "admin_email": "not-an-email"])
                    #expect(badEmail.status.code == 422)
                    #expect((badEmail.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "admin_email")
                    #expect(try await client.call(.get, "/platform/v1/tenants/delta", token: platform).status == .notFound)
                    #expect(try await provision(["slug": "delta", "name": "Delta", "admin_email": "a@delta.test", "timezone": "Mars/Olympus"]).status.code == 422)
                    #expect(try await provision(["slug": "delta", "name": "Delta"]).status == .badRequest)
                    // Reserved slugs have the form and are taken for good; fields are the schema's, one line each.
                    let reserved = try await provision(["slug": "www", "name": "World", "admin_email": "a@www.test"])
                    #expect(reserved.status == .conflict)
                    #expect((reserved.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "slug")
                    let extra = try await provision(["slug": "delta", "name": "Delta", "admin_email": "a@delta.test", "plan": "gold"])
                    #expect(extra.status.code == 422)
                    #expect((extra.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "plan")
                    for (field, value) in [("name", "Delta\nClinic"), ("admin_name", " "), ("admin_email", "a@delta.test\n")] {
                        var body: [String: Any] = ["slug": "delta", "name": "Delta", "admin_email": "a@delta.test"]
                        body[field] = value
                        let refused = try await provision(body)
                        #expect(refused.status.code == 422, "\(field)")
                        #expect((refused.json["errors"] as? [[String: Any]])?.first?["field"] as? String == field)
                    }
                    #expect(try await provision(["slug": "alpha", "name": "Again", "admin_email": "a@alpha.test"]).status == .conflict)
                    // A shard the installation does not have: 404, naming the field; nothing reserved.
                    let nowhere = try await provision(["slug": "delta", "name": "Delta", "admin_email": "a@delta.test", "shard": "nowhere"])
                    #expect(nowhere.status == .notFound)
                    #expect(nowhere.json["title"] as? String == "Unknown shard")
                    #expect((nowhere.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "shard")
                    #expect(try await client.call(.get, "/platform/v1/tenants/delta", token: platform).status == .notFound)
                    #expect(try await services.queue.list(kind: TenantLifecycle.provisionKind).isEmpty)

                    #expect(try await client.call(.post, "/platform/v1/tenants", json: ["slug": "echo", "name": "Echo", "admin_email": "a@echo.test"]).status == .unauthorized)
                    #expect(try await client.call(.post, "/platform/v1/tenants/alpha/retry", token: platform).status == .conflict)
                    #expect(try await client.call(.post, "/platform/v1/tenants/nobody/suspend", token: platform).status == .notFound)
                    // Of two racing suspensions one moves the tenant; the other is told it already moved.
                    async let racingA = client.call(.post, "/platform/v1/tenants/charlie/suspend", token: platform)
                    async let racingB = client.call(.post, "/platform/v1/tenants/charlie/suspend", token: platform)
                    let statuses = try await [racingA.status.code, racingB.status.code].sorted()
                    #expect(statuses == [200, 409])
                    #expect(try await client.call(.post, "/platform/v1/tenants/charlie/resume", token: platform).status == .ok)

                    let first = try await client.call(.get, "/platform/v1/tenants?limit=2", token: platform)
                    #expect((first.json["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["alpha", "bravo"])
                    let cursor = try #require(first.json["next_cursor"] as? String)
                    let second = try await client.call(.get, "/platform/v1/tenants?limit=2&cursor=\(cursor)", token: platform)
                    #expect((second.json["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["charlie"])
                    #expect(second.json["next_cursor"] is NSNull)
                    let suspended = try await client.call(.get, "/platform/v1/tenants?status=suspended", token: platform)
                    #expect((suspended.json["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["bravo"])
                    #expect(try await client.call(.get, "/platform/v1/tenants?status=sleeping", token: platform).status.code == 400)
                    #expect(try await client.call(.get, "/platform/v1/tenants?limit=0", token: platform).status.code == 400)

                    // A tenant whose provisioning failed can be deleted, but not resumed into a tenant without a database.
                    try await services.storage.tenants.reserve(slug: "echo", name: "Echo", status: .failed)
                    #expect(try await client.call(.delete, "/platform/v1/tenants/echo", token: platform).status == .accepted)
                    #expect(try await client.call(.post, "/platform/v1/tenants/echo/resume", token: platform).status == .conflict)
                    #expect(try await services.storage.tenants.fetch(slug: "echo")?.status == .deleting)
                }
            }
        }
    }
}
