import Foundation

/// `ward monitor`'s judgement of a node from two scrapes of its `/metrics` and its readiness:
/// the seeds' thresholds (failure rate over 0.1, queue over 100), a latency bound and free disk.
package enum Monitor {
    package struct Thresholds: Sendable {
        /// The largest share of answers that may be 5xx in an interval.
        package var errorRate: Double = 0.1
        /// The largest p95 latency in seconds over an interval.
        package var p95: Double = 2
        /// The most jobs that may wait.
        package var queueDepth: Double = 100
        /// The oldest job's longest wait, in seconds.
        package var queueAge: Double = 300
        /// The least free space under the data directory, in bytes.
        package var diskFree: Double = 1_073_741_824
        /// The most callers that may wait for a database connection (pool saturation).
        package var poolWaiting: Double = 10
        /// The oldest audited event not yet in its trail, in seconds.
        package var auditLag: Double = 60
        /// The largest share of provisioning jobs that may fail in an interval (the seeds' 0.1).
        package var provisioningFailureRate: Double = 0.1

        package init() {}
    }

    /// The counters of one scrape that the checks read.
    package struct Sample: Sendable, Equatable {
        package var requests: Double = 0
        package var errors: Double = 0
        /// Requests by latency bucket upper bound (cumulative), every route added up.
        package var buckets: [Double: Double] = [:]
        package var queueDepth: Double = 0
        package var queueAge: Double = 0
        /// Free bytes under the data directory, when the node says.
        package var diskFree: Double?
        package var poolWaiting: Double = 0
        package var auditLag: Double = 0
        /// Provisioning jobs finished, and of them failed.
        package var provisionings: Double = 0
        package var failedProvisionings: Double = 0
    }

    /// Reads the samples the checks need from Prometheus text.
    package static func parse(_ text: String) -> Sample {
        var sample = Sample()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = series.prefix { $0 != "{" }
            switch name {
            case "http_requests_total":
                sample.requests += value
                if series.contains(#"status="5"#) { sample.errors += value }
            case "http_request_duration_seconds_bucket":
                guard let range = series.range(of: #"le=""#) else { continue }
                let bound = series[range.upperBound...].prefix { $0 != "\"" }
                sample.buckets[bound == "+Inf" ? .infinity : Double(bound) ?? .infinity, default: 0] += value
            case "queue_depth": sample.queueDepth += value
            case "queue_oldest_job_age", "queue_oldest_job_age_seconds": sample.queueAge = max(sample.queueAge, value)
            case "data_directory_free_bytes": sample.diskFree = value
            case "database_pool_connections": if series.contains(#"state="waiting""#) { sample.poolWaiting += value }
            case "audit_journal_lag_seconds": sample.auditLag = max(sample.auditLag, value)
            case "provisioning_jobs_total":
                if series.contains(#"status="succeeded""#) || series.contains(#"status="failed""#) { sample.provisionings += value }
                if series.contains(#"status="failed""#) { sample.failedProvisionings += value }
            default: continue
            }
        }
        return sample
    }

    /// The p95 latency of the requests answered between two samples: the smallest bucket bound
    /// holding 95% of them; nil when none were answered.
    package static func p95(from previous: Sample, to current: Sample) -> Double? {
        let total = current.requests - previous.requests
        guard total > 0 else { return nil }
        for bound in current.buckets.keys.sorted() where current.buckets[bound, default: 0] - previous.buckets[bound, default: 0] >= 0.95 * total {
            return bound
        }
        return .infinity
    }

    /// What is wrong with the node in the interval between two samples; empty when nothing is.
    package static func problems(previous: Sample, current: Sample, ready: Bool, readiness: String, thresholds: Thresholds) -> [String] {
        var problems: [String] = []
        if !ready { problems.append("not ready: \(readiness)") }
        let answered = current.requests - previous.requests
        if answered > 0 {
            let rate = (current.errors - previous.errors) / answered
            if rate > thresholds.errorRate { problems.append(String(format: "error rate %.2f over %.2f", rate, thresholds.errorRate)) }
        }
        if let p95 = p95(from: previous, to: current), p95 > thresholds.p95 {
            problems.append(p95.isInfinite ? "p95 latency over 10 s" : String(format: "p95 latency %.3f s over %.3f s", p95, thresholds.p95))
        }
        if current.queueDepth > thresholds.queueDepth { problems.append("queue depth \(Int(current.queueDepth)) over \(Int(thresholds.queueDepth))") }
        if let free = current.diskFree, free < thresholds.diskFree {
            problems.append(String(format: "%.1f GiB free under the data directory, under %.1f GiB", free / 1_073_741_824, thresholds.diskFree / 1_073_741_824))
        }
        if current.queueAge > thresholds.queueAge { problems.append("oldest job waiting \(Int(current.queueAge)) s over \(Int(thresholds.queueAge)) s") }
        if current.poolWaiting > thresholds.poolWaiting {
            problems.append("\(Int(current.poolWaiting)) callers waiting for a database connection, over \(Int(thresholds.poolWaiting))")
        }
        if current.auditLag > thresholds.auditLag { problems.append("audit journal \(Int(current.auditLag)) s behind, over \(Int(thresholds.auditLag)) s") }
        let provisioned = current.provisionings - previous.provisionings
        if provisioned > 0 {
            let rate = (current.failedProvisionings - previous.failedProvisionings) / provisioned
            if rate > thresholds.provisioningFailureRate {
                problems.append(String(format: "provisioning failure rate %.2f over %.2f", rate, thresholds.provisioningFailureRate))
            }
        }
        return problems
    }
}
