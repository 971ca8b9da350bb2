import ServiceLifecycle
package import WardStorage

/// Polls the read replicas every second (`ReplicaSet.poll`): a replica that stops answering or
/// falls behind the lag bound serves no reads from the next poll on, one that catches up serves
/// again. Every node runs its own, so each routes on what it sees itself.
package struct ReplicaMonitor: Service {
    let replicas: ReplicaSet
    static let interval: Duration = .seconds(1)

    package init(replicas: ReplicaSet) {
        self.replicas = replicas
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully {
            await replicas.poll()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
        }
    }
}
