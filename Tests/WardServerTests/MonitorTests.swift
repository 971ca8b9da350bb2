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
        #expect(problems == ["not ready: database: timed out", "error rate 0.23 over 0.10", "p95 latency 2.500 s over 2.000 s", "queue depth 150 over 100",
                             "0.5 GiB free under the data directory, under 1.0 GiB"])
        // No answers in the interval: no rate and no latency to judge.
        #expect(Monitor.p95(from: bad, to: bad) == nil)
    }

    @Test("/metrics tells the free space under the data directory and, on SQLite, the database and write-ahead log sizes", arguments: TestBackend.allCases)
    func diskMetrics(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.test { client in
                    let text = try await client.execute(uri: "/metrics", method: .get).text
                    func value(_ name: String) -> Double? {
                        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                    }
                    #expect((value("data_directory_free_bytes") ?? 0) > 0)
                    if backend == .sqlite {
                        #expect((value("sqlite_database_bytes") ?? 0) > 0)
                        #expect(value("sqlite_wal_bytes") != nil)
                    } else {
                        #expect(value("sqlite_database_bytes") == nil)
                    }
                }
            }
        }
    }
}
