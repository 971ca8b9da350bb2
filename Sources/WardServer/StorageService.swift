package import ServiceLifecycle
package import WardStorage

/// The node's databases as a service of its group: opened (and migrated) before the group
/// starts, since every other service needs them from its first moment, and closed by the
/// group's graceful shutdown. It is the group's first service, so it is shut down last: after
/// HTTP has answered its last request, the workers have given back their jobs and the audit
/// journal's mover has moved what remained. On PostgreSQL closing ends the pools' `run()`.
package struct StorageService: Service {
    let storage: Storage

    package init(storage: Storage) {
        self.storage = storage
    }

    package func run() async throws {
        // Returns at graceful shutdown, or throws at cancellation: either way the pools close.
        try? await gracefulShutdown()
        await storage.shutdown()
    }
}
