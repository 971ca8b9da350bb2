package import ServiceLifecycle
package import WardStorage

/// The node's databases as a service of its group: opened (and migrated) before the group
/// starts, since every other service needs them from its first moment, and closed by the
/// group's graceful shutdown. It is the group's first service, so it is shut down last: after
/// HTTP has answered its last request, the workers have given back their jobs and the audit
/// journal's mover has moved what remained. On PostgreSQL closing ends the pools' `run()`.
/// When the group is cancelled instead (a service failed, or the shutdown bound passed), every
/// service stops at once and storage is left to `serve` to close once the group has returned.
package struct StorageService: Service {
    let storage: Storage

    package init(storage: Storage) {
        self.storage = storage
    }

    package func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        await storage.shutdown()
    }
}
