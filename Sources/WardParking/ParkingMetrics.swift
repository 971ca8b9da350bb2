package import Prometheus
import WardCore

/// The parking module's counters: booking outcomes, gate events and no-shows, by this node.
package final class ParkingMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let bookings = MetricCache<String, Counter>()
    private let gates = MetricCache<String, Counter>()
    private let missed: Counter

    static var bookingsDescriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: "parking_bookings", unitName: "total",
                                                         helpText: "Booking requests by outcome: booked, spot_taken, zone_full") }
    static var gatesDescriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: "parking_gate_events", unitName: "total",
                                                      helpText: "Vehicles through the gate: check_in, permit_entry, check_out") }

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        missed = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "parking_no_shows", unitName: "total",
                                                                       helpText: "Reservations released after their grace period without a check-in"))
    }

    /// A booking request's outcome: `booked`, `spot_taken` or `zone_full`.
    func booking(_ outcome: String) {
        bookings.value(for: outcome) { registry.makeCounter(descriptor: Self.bookingsDescriptor, labels: [("outcome", outcome)]) }.increment()
    }

    /// `check_in`, `permit_entry` or `check_out`.
    func gate(_ event: String) {
        gates.value(for: event) { registry.makeCounter(descriptor: Self.gatesDescriptor, labels: [("event", event)]) }.increment()
    }

    func noShows(_ count: Int) {
        if count > 0 { missed.increment(by: Int64(count)) }
    }
}
