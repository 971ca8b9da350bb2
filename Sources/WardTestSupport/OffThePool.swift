import Foundation

/// Runs blocking `work` (waiting on a child process, reading a pipe to its end) on a thread of
/// its own rather than on one of the cooperative pool's threads: with two cores the pool has two
/// threads, and tests blocking both while running in parallel starve the in-process work a
/// child may be waiting on.
package func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Swift.Result { try work() }) }
    }
}
