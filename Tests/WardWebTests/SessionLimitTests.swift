import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WardTestSupport

@Suite("Web session limit")
struct SessionLimitTests {
    @Test("the web app's pages are counted per session: beyond the quota a friendly 429 page, another session unaffected")
    func perSession() async throws {
        try await withTestSite(.sqlite) { site in
            try await TestNode.with(site, settings: ["WARD_RATE_LIMITS": "session=3/h"]) { node in
                _ = try await node.user("nurse@acme.test", roles: ["nurse"])
                try await node.test { client in
                    let first = Browser(client), second = Browser(client)
                    try await first.signIn("nurse@acme.test")
                    try await second.signIn("nurse@acme.test")
                    var statuses: [Int] = []
                    for _ in 0..<4 { statuses.append(Int(try await first.get("/app").status.code)) }
                    #expect(statuses == [200, 200, 200, 429])
                    let refused = try await first.get("/app/patients")
                    #expect(refused.status == .tooManyRequests)
                    #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(refused.text.contains("Too many requests"))
                    #expect(try await second.get("/app").status == .ok)
                }
            }
        }
    }
}
