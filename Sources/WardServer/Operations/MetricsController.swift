import Hummingbird
import WardHTTP
import NIOCore
import WardCore

/// `/metrics` in the Prometheus text exposition format.
struct MetricsController {
    let metrics: WardMetrics
    /// Samples what is read from the databases (queue depth, tenants by state) just before
    /// the exposition is written.
    let refresh: @Sendable () async -> Void

    static let operations: [APIOperation] = [
        APIOperation("metrics", .get, "/metrics", summary: "Prometheus metrics", tag: "operations", success: (200, "text/plain; version=0.0.4", nil)),
    ]

    func routes(_ routes: inout ModuleRoutes) {
        let metrics = self.metrics, refresh = self.refresh
        routes.on("metrics") { _, _ in
            await refresh()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
    }
}
