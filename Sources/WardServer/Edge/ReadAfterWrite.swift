import HTTPTypes
import Hummingbird
import WardStorage

/// Read-your-writes across nodes, where read replicas serve: a response to a request that
/// committed a write names the commit's log position (`Ward-Read-After`, and a cookie of that
/// name for a browser), and a request naming one reads from a replica only once it has replayed
/// that far. A node also remembers its sessions' positions itself (`SessionPositions`), so a
/// client that never echoes the header still reads its own writes on the node that made them.
/// The position is no secret and grants nothing: a client naming a later one only sends its own
/// reads to the primary.
enum ReadAfterWrite {
    static let header = HTTPField.Name("Ward-Read-After")!
    static let cookie = "ward_read_after"

    /// The consistency of `request`: replicas only for a request that changes nothing.
    static func consistency(for request: Request, sessions: SessionPositions) -> ReadConsistency {
        let named = request.headers[header].flatMap { WALPosition($0.prefix(17)) }
            ?? request.cookies[cookie].flatMap { WALPosition($0.value.prefix(17)) }
        return ReadConsistency(allowsReplica: request.method == .get || request.method == .head, minimum: named, sessions: sessions)
    }

    /// Names the request's last commit in its response.
    static func mark(_ response: inout Response, committed: WALPosition, request: Request, secure: Bool) {
        response.headers[header] = committed.description
        // A browser carries it by itself; a replica within the lag bound has replayed it five
        // minutes on, so the cookie need not outlive that.
        guard request.headers[.cookie] != nil else { return }
        response.headers.append(HTTPField(
            name: .setCookie,
            value: "\(cookie)=\(committed); Path=/; Max-Age=300; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
        ))
    }
}
