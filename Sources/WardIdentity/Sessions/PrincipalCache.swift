import Foundation
import Synchronization
import WardHTTP

/// Principals of recently seen sessions, so a role check is answered from memory. An entry is
/// trusted for `freshness`; after that the session, user and roles are read again. Changes made
/// through this node evict the affected entries at once; other nodes see them within
/// `freshness`.
final class PrincipalCache: Sendable {
    struct Entry {
        var principal: Principal
        var loadedAt: ContinuousClock.Instant
        /// The last request of this session seen by this node.
        var lastSeen: Date
        /// The last-seen time written to the database.
        var persistedLastSeen: Date
    }

    /// How long a cached principal is trusted: the bound on how late a change made on another
    /// node (a revoked role, a logout) takes effect here.
    static let freshness: Duration = .seconds(5)

    private let entries = Mutex<[String: Entry]>([:])

    static func key(tenant: String, session: String) -> String { tenant + "/" + session }

    func entry(_ key: String) -> Entry? {
        entries.withLock { $0[key] }
    }

    func store(_ key: String, _ entry: Entry) {
        entries.withLock { entries in
            if entries.count > 100_000 { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
    }

    /// Marks the session seen now.
    func touch(_ key: String, at date: Date) {
        entries.withLock { $0[key]?.lastSeen = date }
    }

    func evict(_ key: String) {
        entries.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// Evicts every session of `user` in `tenant` (after a role change, a disable).
    func evict(tenant: String, user: String) {
        entries.withLock { entries in
            entries = entries.filter { !($0.value.principal.tenant == tenant && $0.value.principal.userID == user) }
        }
    }

    /// Evicts every session of `tenant` (after a role's permissions change).
    func evict(tenant: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.principal.tenant != tenant } }
    }
}
