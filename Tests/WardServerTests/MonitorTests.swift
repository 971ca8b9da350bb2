import Foundation
import HummingbirdTesting
import Testing
import WardServer
import WardTestSupport

@Suite("Monitor")
struct MonitorTests {
    static func scrape(ok: Int, failed: Int, fast: Int, slow: Int, queue: Int) -> String {
        """
        # TYPE http_requests_total counter
        http_requests_total{method="GET",route="/api/v1/patients/{id}",status="200"} \(ok)
        http_requests_total{method="GET",route="/api/v1/patients/{id}",status="503"} \(failed)
        http_request_duration_seconds_bucket{method="GET",route="/api/v1/patients/{id}",le="0.01"} \(fast)
        http_request_duration_seconds_bucket{method="GET",route="/api/v1/patients/{id}",le="2.5"} \(fast + slow)
        http_request_duration_seconds_bucket{method="GET",route="/api/v1/patients/{id}",le="+Inf"} \(fast + slow)
        queue_depth{kind="mail.send"} \(queue)
        queue_oldest_job_age_seconds 3.0
        data_directory_free_bytes \(queue == 150 ? 524_288_000 : 53_687_091_200)
        database_pool_connections{database="control_plane",state="in_use"} 20
        database_pool_connections{database="control_plane",state="waiting"} \(queue == 150 ? 25 : 0)
        audit_journal_lag_seconds \(queue == 150 ? 90 : 0.4)
        provisioning_jobs_total{status="succeeded"} \(ok / 10)
        provisioning_jobs_total{status="retrying"} 7
        provisioning_jobs_total{status="failed"} \(failed / 5)
        """
    }

    @Test("the interval's error rate, p95 latency and the queue are judged against the thresholds")
    func judgement() {
        let before = Monitor.parse(Self.scrape(ok: 100, failed: 0, fast: 100, slow: 0, queue: 0))
        #expect(before.requests == 100 && before.errors == 0 && before.queueDepth == 0 && before.queueAge == 3)
        let calm = Monitor.parse(Self.scrape(ok: 200, failed: 5, fast: 205, slow: 0, queue: 3))
        #expect(Monitor.p95(from: before, to: calm) == 0.01)
        #expect(Monitor.problems(previous: before, current: calm, ready: true, readiness: "", thresholds: .init()).isEmpty)
        // 30 of the next 130 answers failed (0.23), and 30 took up to 2.5 s (p95 over 2 s).
        let bad = Monitor.parse(Self.scrape(ok: 300, failed: 35, fast: 305, slow: 30, queue: 150))
        let problems = Monitor.problems(previous: calm, current: bad, ready: false, readiness: "database: timed out", thresholds: .init())
        // Provisioning: 10 succeeded and 6 failed in the interval (0.375).
        #expect(problems == ["not ready: database: timed out", "error rate 0.23 over 0.10", "p95 latency 2.500 s over 2.000 s", "queue depth 150 over 100",
                             "0.5 GiB free under the data directory, under 1.0 GiB", "25 callers waiting for a database connection, over 10",
                             "audit journal 90 s behind, over 60 s", "provisioning failure rate 0.38 over 0.10"])
        // No answers in the interval: no rate and no latency to judge.
        #expect(Monitor.p95(from: bad, to: bad) == nil)
    }

    @Test("/metrics tells the free space under the data directory and, on SQLite, the database and write-ahead log sizes", arguments: TestBackend.allCases)
    func diskMetrics(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                let tenants = node.services.storage.tenants
                try await node.test { client in
                    let text = try await client.execute(uri: "/metrics", method: .get).text
                    func value(_ name: String) -> Double? {
                        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                    }
                    #expect((value("data_directory_free_bytes") ?? 0) > 0)
                    #expect(value("audit_journal_backlog") != nil && value("audit_journal_lag_seconds") != nil)
                    // The control plane's pool (on SQLite its readers and writer): its size, and
                    // leases given back by the requests so far.
                    #expect(value(#"database_pool_connections{database="control_plane",state="size"}"#) ?? 0 > 0)
                    #expect(value(#"database_leases_total{database="control_plane"}"#) ?? 0 > 0)
                    #expect(value(#"database_lease_seconds_total{database="control_plane"}"#) ?? 0 > 0)
                    if backend == .sqlite {
                        #expect((value("sqlite_database_bytes") ?? 0) > 0)
                        #expect(value("sqlite_wal_bytes") != nil)
                        // The tenant files' connections, summed: none before a clinic's file opens.
                        #expect(value(#"database_pool_connections{database="tenants",state="size"}"#) == 0)
                        try await tenants.create(slug: "acme", name: "Acme")
                        let after = try await client.execute(uri: "/metrics", method: .get).text
                        func again(_ name: String) -> Double? {
                            after.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                        }
                        #expect(again(#"database_pool_connections{database="tenants",state="size"}"#) ?? 0 >= 2)
                        #expect(again(#"database_pool_connections{database="tenants",state="in_use"}"#) == 0)
                        #expect(again(#"database_leases_total{database="tenants"}"#) ?? 0 > 0)
                    } else {
                        #expect(value("sqlite_database_bytes") == nil)
                    }
                }
            }
        }
    }
}
