import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import WardServer

/// `ward monitor --url …`: reads a node's `/metrics` and `/health/ready` every interval, prints a
/// status line per check against the seeds' thresholds, and exits 1 after consecutive failures,
/// for a deploy pipeline's gate or a cron job that pages someone.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Watch a node's metrics and readiness against alert thresholds.")
    @Option(help: "The node's base URL, e.g. http://127.0.0.1:8080.") var url: String
    @Option(help: "Seconds between checks.") var interval: Double = 60
    @Option(help: "Stop after this many checks (0: until stopped).") var count = 0
    @Option(help: "Seconds each request may take (a refused connection is retried until then).") var timeout = 10.0
    @Option(help: "Consecutive failed checks that end the watch with exit status 1.") var failures = 3
    @Option(name: .customLong("error-rate"), help: "Largest share of 5xx answers in an interval.") var errorRate = 0.1
    @Option(help: "Largest p95 latency in seconds in an interval.") var p95 = 2.0
    @Option(name: .customLong("queue-depth"), help: "Most jobs waiting.") var queueDepth = 100.0
    @Option(name: .customLong("disk-free"), help: "Least free space under the data directory, in GiB.") var diskFree = 1.0
    @Option(name: .customLong("pool-waiting"), help: "Most callers waiting for a database connection.") var poolWaiting = 10.0
    @Option(name: .customLong("audit-lag"), help: "Longest wait, in seconds, of an audited event not yet in its trail.") var auditLag = 60.0
    @Option(name: .customLong("provisioning-failure-rate"), help: "Largest share of provisioning jobs failing in an interval.") var provisioningFailureRate = 0.1

    func run() async throws {
        guard interval > 0, timeout > 0, failures > 0, let base = URL(string: url), ["http", "https"].contains(base.scheme ?? "") else {
            throw ValidationError("--url must be an http(s) URL; --interval, --timeout and --failures must be positive")
        }
        var thresholds = Monitor.Thresholds()
        thresholds.errorRate = errorRate
        thresholds.p95 = p95
        thresholds.queueDepth = queueDepth
        thresholds.diskFree = diskFree * 1_073_741_824
        thresholds.poolWaiting = poolWaiting
        thresholds.auditLag = auditLag
        thresholds.provisioningFailureRate = provisioningFailureRate
        try await watch(.shared, base: url.hasSuffix("/") ? String(url.dropLast()) : url, thresholds: thresholds)
    }

    private func watch(_ client: HTTPClient, base: String, thresholds: Monitor.Thresholds) async throws {
        var previous: Monitor.Sample?, failed = 0, checks = 0
        while true {
            let problems: [String]
            var summary = ""
            do {
                let metrics = try await fetch(client, base + "/metrics")
                let ready = try await fetch(client, base + "/health/ready")
                let sample = Monitor.parse(metrics.body)
                problems = Monitor.problems(previous: previous ?? sample, current: sample, ready: ready.status == 200,
                                            readiness: ready.body.prefix(200).replacingOccurrences(of: "\n", with: " "), thresholds: thresholds)
                let answered = Int(sample.requests - (previous ?? sample).requests)
                let latency = previous.flatMap { Monitor.p95(from: $0, to: sample) }.map { $0.isInfinite ? ">10s" : String(format: "%.3fs", $0) } ?? "-"
                summary = "answered=\(answered) p95=\(latency) queue=\(Int(sample.queueDepth))"
                previous = sample
            } catch {
                problems = ["unreachable: \(error)"]
            }
            let stamp = ISO8601DateFormatter().string(from: Date())
            if problems.isEmpty {
                failed = 0
                print("\(stamp) ok \(summary)")
            } else {
                failed += 1
                print("\(stamp) FAIL \(problems.joined(separator: "; "))")
                if failed >= failures {
                    print("\(failed) consecutive failed checks")
                    throw ExitCode(1)
                }
            }
            checks += 1
            if count > 0, checks >= count { return }
            try await Task.sleep(for: .milliseconds(Int(interval * 1_000)))
        }
    }

    private func fetch(_ client: HTTPClient, _ url: String) async throws -> (status: Int, body: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .milliseconds(Int64(timeout * 1_000)))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), String(buffer: body))
    }
}
