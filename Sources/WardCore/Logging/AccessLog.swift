package import Logging

/// The access log: one JSON line per request, the same line `JSONLogHandler` would write for
/// `logger.info("request", metadata: …)` with these fields, built straight from them. Going
/// through swift-log cost a metadata dictionary, a merge and a key sort per request (5% of an
/// audited read).
package struct AccessLog: Sendable {
    private let label: String
    private let enabled: Bool
    private let sink: any LogSink

    /// An access log under `label`, written when `level` lets info lines through.
    package init(label: String = "ward.access", level: Logger.Level, sink: any LogSink = StandardOutputSink.standardOutput) {
        self.label = label
        self.enabled = level <= .info
        self.sink = sink
    }

    /// Writes the line for one answered request. Text fields are escaped as JSON strings.
    package func record(
        requestID: String, method: String, route: String, status: Int, duration: Duration, tenantID: String?, userID: String?
    ) {
        guard enabled else { return }
        var json = JSONLogHandler.lineOpening(level: .info, label: label, message: "request")
        // Keys in sorted order, as the handler writes them.
        json += ",\"duration_ms\":"
        Self.appendMilliseconds(duration, to: &json)
        json += ",\"method\":"
        JSONText.appendString(method, to: &json)
        json += ",\"request_id\":"
        JSONText.appendString(requestID, to: &json)
        json += ",\"route\":"
        JSONText.appendString(route, to: &json)
        json += ",\"status\":"
        json += String(status)
        if let tenantID {
            json += ",\"tenant_id\":"
            JSONText.appendString(tenantID, to: &json)
        }
        if let userID {
            json += ",\"user_id\":"
            JSONText.appendString(userID, to: &json)
        }
        json += "}"
        sink.write(line: json, urgent: false)
    }

    /// `duration` in milliseconds with three decimals (`7.802`).
    static func appendMilliseconds(_ duration: Duration, to json: inout String) {
        let microseconds = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        json += String(microseconds / 1000)
        let fraction = Int(microseconds % 1000)
        json += fraction < 10 ? ".00" : fraction < 100 ? ".0" : "."
        json += String(fraction)
    }
}
