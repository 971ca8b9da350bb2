import Synchronization

/// Metric series kept once made. Asking the Prometheus registry for a series takes the
/// registry's lock and builds its labels again; per-request series are asked once per key.
package final class MetricCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let series = Mutex<[Key: Value]>([:])

    package init() {}

    /// The series for `key`, made by `make` the first time.
    package func value(for key: Key, make: () -> Value) -> Value {
        if let known = series.withLock({ $0[key] }) { return known }
        let made = make()
        series.withLock { $0[key] = made }
        return made
    }
}
