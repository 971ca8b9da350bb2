import Foundation
import Logging
import SQLKit
import Synchronization
import WardCore

/// The PostgreSQL clusters tenants' schemas live on. `primary` is the node's own database
/// (`DATABASE_URL`, its owner and read replicas); every other shard was registered with
/// `ward shard add` and is recorded in the control plane's `shards` table with its URLs sealed
/// under the node's secret key. A node opens a shard's pools the first time one of its tenants
/// is used (one added on another node is found by reading the table again) and keeps them.
package final class ShardSet: Sendable {
    /// One cluster: the pool requests use, the schema owner's, and its read replicas.
    package struct Cluster: Sendable {
        package let name: String
        package let serving: any Database
        package let owner: SchemaOwner
        package let replicas: ReplicaSet?
    }

    /// A shard as the control plane records it.
    package struct Record: Sendable, Equatable {
        package let name: String
        package let description: String
        package let acceptsTenants: Bool
        package let poolSize: Int?
        package let createdAt: String
    }

    package static let primaryName = "primary"

    let primary: Cluster
    private let controlPlane: any Database
    private let controlSchema: String?
    private let box: SecretBox
    private let limits: PostgresDatabase.Limits
    private let logger: Logger
    private let opened = Mutex<[String: Task<Cluster, any Error>]>([:])
    /// The clusters opened, for pool metrics read without waiting.
    private let ready = Mutex<[String: Cluster]>([:])

    init(primary: Cluster, controlPlane: any Database, controlSchema: String?, box: SecretBox, limits: PostgresDatabase.Limits, logger: Logger) {
        self.primary = primary
        self.controlPlane = controlPlane
        self.controlSchema = controlSchema
        self.box = box
        self.limits = limits
        self.logger = logger
    }

    /// The purpose the shards' URLs are sealed under.
    static let sealingPurpose = "ward shard url v1"

    private var table: SQLQualifiedTable { SQLQualifiedTable("shards", space: controlSchema) }

    /// The cluster of shard `name`, its pools opened on first use.
    package func cluster(named name: String) async throws -> Cluster {
        if name == Self.primaryName { return primary }
        let task = opened.withLock { opened in
            if let task = opened[name] { return task }
            let task = Task { try await self.open(name) }
            opened[name] = task
            return task
        }
        do {
            return try await task.value
        } catch {
            // A shard that could not be opened (unknown yet, its URL unreadable) is tried again.
            opened.withLock { opened in _ = opened.removeValue(forKey: name) }
            throw error
        }
    }

    private func open(_ name: String) async throws -> Cluster {
        let table = self.table
        let row = try await controlPlane.read { database in
            try await database.raw("SELECT url_sealed, owner_url_sealed, pool_size FROM \(table) WHERE name = \(bind: name)").first()
        }
        guard let row else { throw ShardError.unknown(name) }
        guard let sealed = try row.decode(column: "url_sealed", as: String?.self), let url = box.open(sealed) else {
            throw ShardError.unreadable(name)
        }
        let ownerURL = try row.decode(column: "owner_url_sealed", as: String?.self).map { sealed in
            guard let url = box.open(sealed) else { throw ShardError.unreadable(name) }
            return url
        }
        var limits = self.limits
        if let size = try row.decode(column: "pool_size", as: Int?.self) { limits.maximumConnections = size }
        limits.recordsCommitPositions = false
        let serving = try PostgresDatabase(url: url, limits: limits, logger: logger)
        var ownerLimits = limits
        ownerLimits.maximumConnections = min(limits.maximumConnections, 4)
        let owner = try ownerURL.map { try PostgresDatabase(url: $0, limits: ownerLimits, logger: logger) }
        logger.info("shard opened", metadata: ["shard": "\(name)", "database": "\(serving.displayName)"])
        let cluster = Cluster(
            name: name, serving: serving,
            owner: SchemaOwner(database: owner ?? serving, servingRole: owner == nil ? nil : URLComponents(string: url)?.user),
            replicas: nil
        )
        ready.withLock { $0[name] = cluster }
        return cluster
    }

    /// The other shards' clusters this node has opened, by name.
    package var openClusters: [Cluster] {
        ready.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    /// Every shard recorded, in name order.
    package func records() async throws -> [Record] {
        let table = self.table
        return try await controlPlane.read { database in
            try await database.raw("SELECT name, description, accepts_tenants, pool_size, created_at FROM \(table) ORDER BY name").all().map { row in
                Record(
                    name: try row.decode(column: "name", as: String.self), description: try row.decode(column: "description", as: String.self),
                    acceptsTenants: try row.decode(column: "accepts_tenants", as: Int.self) != 0,
                    poolSize: try row.decode(column: "pool_size", as: Int?.self), createdAt: try row.decode(column: "created_at", as: String.self)
                )
            }
        }
    }

    /// Registers another PostgreSQL cluster as shard `name`, once it has answered as a primary
    /// (not a standby) over `url` (and `ownerURL`, where another role owns the schemas), and
    /// sets its database's planner costs as the control plane's (`PlatformMigrations.plannerCosts`).
    package func add(name: String, url: String, ownerURL: String?, poolSize: Int?, description: String) async throws -> Record {
        guard name.range(of: "^[a-z][a-z0-9_-]{0,39}$", options: .regularExpression) != nil else { throw ShardError.invalidName(name) }
        guard name != Self.primaryName else { throw ShardError.exists(name) }
        if let poolSize, !(1...1_000).contains(poolSize) { throw ShardError.invalidPoolSize }
        // One connection each, not a pool: a cluster that does not answer is reported at once.
        for candidate in [url] + (ownerURL.map { [$0] } ?? []) {
            let standby: Bool
            do {
                standby = try await PostgresDatabase.probe(url: candidate, logger: logger).standby
            } catch {
                throw ShardError.unreachable(name, PostgresSchemaCopy.describe(error))
            }
            if standby { throw ShardError.standby(name) }
        }
        // Its tenants' point reads plan as the control plane's do (platform migration 6): set
        // by the role owning the schemas, which is the one that may change the database.
        try await PostgresDatabase.execute(url: ownerURL ?? url, PlatformMigrations.plannerCosts, logger: logger)
        let record = Record(name: name, description: description, acceptsTenants: true, poolSize: poolSize, createdAt: Timestamp.now())
        let sealedURL = try box.seal(url), sealedOwner = try ownerURL.map { try box.seal($0) }
        let table = self.table
        do {
            try await controlPlane.transaction { database in
                try await database.insert(into: table)
                    .columns("name", "description", "created_at", "url_sealed", "owner_url_sealed", "pool_size", "accepts_tenants")
                    .values(SQLBind(record.name), SQLBind(record.description), SQLBind(record.createdAt), SQLBind(sealedURL),
                            SQLBind(sealedOwner), SQLBind(poolSize), SQLBind(1))
                    .run()
            }
        } catch where isConstraintConflict(error) || String(describing: error).contains("UNIQUE") {
            throw ShardError.exists(name)
        }
        return record
    }

    /// Whether shard `name` takes new tenants (a full or retiring cluster is closed to them).
    package func setAcceptsTenants(_ name: String, _ accepts: Bool) async throws {
        let table = self.table
        let changed = try await controlPlane.transaction { database in
            try await database.update(table).set("accepts_tenants", to: accepts ? 1 : 0).where("name", .equal, name).returning("name").first() != nil
        }
        guard changed else { throw ShardError.unknown(name) }
    }

    /// Closes every pool opened for another shard.
    func shutdown() async {
        let tasks = opened.withLock { opened in defer { opened = [:] }; return Array(opened.values) }
        ready.withLock { $0 = [:] }
        for task in tasks {
            guard let cluster = try? await task.value else { continue }
            await cluster.serving.shutdown()
            if (cluster.owner.database as AnyObject) !== (cluster.serving as AnyObject) { await cluster.owner.database.shutdown() }
        }
    }
}

/// Why a shard cannot be used or registered; its text is for an operator.
package enum ShardError: Error, CustomStringConvertible {
    case unknown(String)
    case unreadable(String)
    case invalidName(String)
    case invalidPoolSize
    case exists(String)
    case standby(String)
    case unreachable(String, String)
    case sqlite
    case closed(String)
    case noneOpen

    package var description: String {
        switch self {
        case .unknown(let name): "no shard named \(name)"
        case .unreadable(let name): "the URL of shard \(name) does not open with this node's secret keys (WARD_SECRET_KEY, WARD_SECRET_PREVIOUS_KEYS)"
        case .invalidName(let name): "invalid shard name '\(name)': lower-case letters, digits, - and _, starting with a letter, at most 40"
        case .invalidPoolSize: "the pool size must be between 1 and 1000"
        case .exists(let name): "a shard named \(name) exists already"
        case .standby(let name): "\(name) answers as a standby (in recovery): a shard must be a primary"
        case .unreachable(let name, let reason): "shard \(name) did not answer: \(reason)"
        case .sqlite: "shards are PostgreSQL clusters: an installation on embedded SQLite keeps every clinic in a file of its own under the data directory"
        case .closed(let name): "shard \(name) takes no new tenants"
        case .noneOpen: "every shard is closed to new tenants: `ward shard open NAME` one, or name one"
        }
    }
}
