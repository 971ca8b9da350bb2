import Foundation
import Synchronization

/// Limits login attempts per client address in fixed one-minute windows, in this node's
/// memory: a guessing client is slowed long before account lockout hurts the real user.
package final class LoginThrottle: Sendable {
    private struct Window { var start: ContinuousClock.Instant; var count: Int }
    private let windows = Mutex<[String: Window]>([:])
    private let limit: Int
    private let window: Duration = .seconds(60)

    package init(attemptsPerMinute: Int) {
        self.limit = attemptsPerMinute
    }

    /// Records an attempt from `client`; returns the seconds to wait when over the limit.
    package func attempt(from client: String, now: ContinuousClock.Instant = .now) -> Int? {
        windows.withLock { windows in
            if windows.count > 50_000 {
                // Forget finished windows so a scan of many addresses cannot grow memory.
                windows = windows.filter { now - $0.value.start < window }
            }
            var current = windows[client] ?? Window(start: now, count: 0)
            if now - current.start >= window { current = Window(start: now, count: 0) }
            current.count += 1
            windows[client] = current
            guard current.count > limit else { return nil }
            let remaining = window - (now - current.start)
            return max(1, Int(remaining.components.seconds) + 1)
        }
    }
}
