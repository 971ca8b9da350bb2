import Synchronization

/// How busy a database's connections are, counted as they are leased: how many are held now,
/// how many callers wait for one, and how many leases ended and how long they were held in all
/// (their mean is how long a statement or transaction keeps a connection). Atomics only: a
/// lease costs two clock reads and a few additions. `/metrics` samples it at each scrape.
package final class PoolUsage: Sendable {
    private let holding = Atomic<Int>(0)
    private let queued = Atomic<Int>(0)
    private let ended = Atomic<Int>(0)
    private let heldNanoseconds = Atomic<Int>(0)
    private let capacity: Atomic<Int>
    /// The most connections the pool opens (summed over the files that share it, on SQLite).
    package var size: Int { capacity.load(ordering: .relaxed) }

    init(size: Int) {
        capacity = Atomic(size)
    }

    /// A file sharing this usage opened (`delta` > 0) or closed its connections.
    func resize(by delta: Int) { capacity.add(delta, ordering: .relaxed) }

    /// One lease as it goes: waiting from `init` until `acquired`, in use from then until `end`.
    final class Lease: Sendable {
        private let usage: PoolUsage
        private let start = Mutex<ContinuousClock.Instant?>(nil)

        init(_ usage: PoolUsage) {
            self.usage = usage
            usage.enqueue()
        }

        /// The connection is here (a second call, from work run again, changes nothing).
        func acquired() { start.withLock { if $0 == nil { $0 = usage.acquire() } } }

        func end() {
            if let start = start.withLock({ $0 }) { usage.release(since: start) } else { usage.dequeue() }
        }
    }

    package struct Sample: Sendable, Equatable {
        package var inUse = 0, waiting = 0, size = 0, leases = 0
        package var heldSeconds = 0.0

        package init() {}

        package static func + (left: Sample, right: Sample) -> Sample {
            var sum = left
            sum.inUse += right.inUse
            sum.waiting += right.waiting
            sum.size += right.size
            sum.leases += right.leases
            sum.heldSeconds += right.heldSeconds
            return sum
        }
    }

    package var sample: Sample {
        var sample = Sample()
        sample.inUse = holding.load(ordering: .relaxed)
        sample.waiting = queued.load(ordering: .relaxed)
        sample.size = size
        sample.leases = ended.load(ordering: .relaxed)
        sample.heldSeconds = Double(heldNanoseconds.load(ordering: .relaxed)) / 1e9
        return sample
    }

    /// A caller starts waiting for a connection.
    func enqueue() { queued.add(1, ordering: .relaxed) }
    /// A waiting caller gave up without one (the lease failed).
    func dequeue() { queued.subtract(1, ordering: .relaxed) }

    /// A waiting caller got its connection; returns when, for `release`.
    func acquire() -> ContinuousClock.Instant {
        queued.subtract(1, ordering: .relaxed)
        holding.add(1, ordering: .relaxed)
        return .now
    }

    /// The connection acquired at `start` is given back.
    func release(since start: ContinuousClock.Instant) {
        let held = ContinuousClock.now - start
        holding.subtract(1, ordering: .relaxed)
        ended.add(1, ordering: .relaxed)
        heldNanoseconds.add(Int(held.components.seconds) * 1_000_000_000 + Int(held.components.attoseconds / 1_000_000_000), ordering: .relaxed)
    }
}
