package import Foundation

/// Where Ward reads the time of day for what it decides by time: token expiry, session idle
/// and absolute limits, lockouts, reset links, job leases and retries, and cron firings. A node
/// reads the system's; a test hands a `TestClock` and moves it forward rather than waiting.
package protocol WallClock: Sendable {
    var now: Date { get }
}

/// The system's clock.
package struct SystemClock: WallClock {
    package init() {}
    package var now: Date { Date() }
}
