package import Prometheus

/// `emails_sent_total{template,outcome}` (sent, retried, failed, suppressed) and
/// `email_queue_depth`, sampled from the outbox when `/metrics` is scraped.
package final class MailMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let depth: Gauge

    static var sent: MetricNameDescriptor { MetricNameDescriptor(metricName: "emails_sent", unitName: "total", helpText: "Email delivery attempts by template and outcome") }

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        depth = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "email_queue_depth", unitName: "", helpText: "Emails queued and not yet sent"))
    }

    package func record(template: String, outcome: String) {
        registry.makeCounter(descriptor: Self.sent, labels: [("template", template), ("outcome", outcome)]).increment()
    }

    package func setDepth(_ value: Int) {
        depth.set(Double(value))
    }
}
