import HummingbirdBcrypt
import NIOPosix

/// bcrypt, off the event loop: each hash or verify takes tens to hundreds of milliseconds, so it
/// runs on NIO's blocking thread pool and never stalls request handling.
package struct PasswordHasher: Sendable {
    package let cost: Int

    package init(cost: Int) {
        self.cost = cost
    }

    package func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    package func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
