package import Foundation
package import WardCore
import Synchronization

/// The system's time plus however far a test moved it forward: time passes as usual (jobs fall
/// due, work finishes), and a test that needs a lease, an idle timeout, a lockout or a token's
/// expiry to pass calls `advance(by:)` instead of sleeping through it.
package final class TestClock: WallClock {
    private let offset = Mutex<TimeInterval>(0)

    package init() {}

    package var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    /// Moves the clock forward by `duration`.
    package func advance(by duration: Duration) {
        offset.withLock { $0 += duration.timeInterval }
    }
}
