import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardHTTP
import WardServer
import WardStorage
import WardTestSupport

@Suite("Tenant resolution")
struct TenancyRoutingTests {
    static let tenantHeader = HTTPField.Name("X-Tenant-ID")!

    @Test("the X-Tenant-ID header selects the tenant; unknown is 404, suspended 403, none 400", arguments: TestBackend.allCases)
    func header(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.services.storage.tenants.create(slug: "acme", name: "Acme Clinic", timeZone: "Europe/Paris")
                try await node.services.storage.tenants.create(slug: "quiet", name: "Quiet Clinic")
                try await node.services.storage.tenants.setStatus("quiet", .suspended)
                try await node.test { client in
                    try await client.execute(uri: "/api/v1/tenant", method: .get, headers: [Self.tenantHeader: "acme"]) { response in
                        #expect(response.status == .ok)
                        #expect(response.json["slug"] as? String == "acme")
                        #expect(response.json["time_zone"] as? String == "Europe/Paris")
                    }
                    try await client.execute(uri: "/api/v1/tenant", method: .get, headers: [Self.tenantHeader: "nobody"]) { response in
                        #expect(response.status == .notFound)
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                    try await client.execute(uri: "/api/v1/tenant", method: .get, headers: [Self.tenantHeader: "quiet"]) { response in
                        #expect(response.status == .forbidden)
                        #expect(response.json["title"] as? String == "Tenant suspended")
                    }
                    try await client.execute(uri: "/api/v1/tenant", method: .get) { response in
                        #expect(response.status == .badRequest)
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                }
                let tenantLine = node.accessLines.first { $0["status"] as? Int == 200 }
                #expect(tenantLine?["tenant_id"] as? String == "acme")
                #expect(tenantLine?["route"] as? String == "/api/v1/tenant")
            }
        }
    }

    @Test("the subdomain of the base domain selects the tenant")
    func subdomain() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_BASE_DOMAIN": "ward.test"]) { node in
                try await node.services.storage.tenants.create(slug: "acme", name: "Acme Clinic")
                try await node.live { port, _ in
                    let own = try await RawHTTP.get(port: port, path: "/api/v1/tenant", host: "acme.ward.test:443")
                    #expect(own.status == 200)
                    #expect(own.body.contains(#""slug":"acme""#))
                    let unknown = try await RawHTTP.get(port: port, path: "/api/v1/tenant", host: "nobody.ward.test")
                    #expect(unknown.status == 404)
                    let foreign = try await RawHTTP.get(port: port, path: "/api/v1/tenant", host: "acme.example.org")
                    #expect(foreign.status == 400)
                }
            }
        }
    }
}
