import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt, off the event loop: each hash or verify takes tens to hundreds of milliseconds. It
/// runs on a thread pool of its own, one thread per core: on NIO's shared pool it would queue
/// ahead of the SQLite queries that also run there, and every login's database work would wait
/// behind other logins' hashing.
package struct PasswordHasher: Sendable {
    package let cost: Int

    package init(cost: Int) {
        self.cost = cost
    }

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    package func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        return try await Self.pool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    package func verify(_ password: String, against hash: String) async throws -> Bool {
        try await Self.pool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
