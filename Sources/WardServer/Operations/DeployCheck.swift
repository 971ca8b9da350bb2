package import Foundation
import SQLKit
import WardBackup
package import WardCore
package import WardStorage

/// `ward check --deploy`: what a production node needs beyond starting, as a list of findings
/// an operator (or a deploy pipeline) reads top to bottom, like Django's `check --deploy`.
package enum DeployCheck {
    package struct Finding: Sendable, Equatable {
        package var name: String
        package var passed: Bool
        package var detail: String
    }

    /// Every check against `settings`, and against the database when `storage` is open.
    package static func run(_ settings: WardSettings, storage: Storage?) async -> [Finding] {
        var findings: [Finding] = []
        func check(_ name: String, _ passed: Bool, _ detail: String) { findings.append(Finding(name: name, passed: passed, detail: detail)) }

        let insecure = settings.insecureSettings()
        check("settings", insecure.isEmpty, insecure.isEmpty ? "WARD_ENV=production would start" : insecure.joined(separator: "; "))
        check("environment", settings.environment == .production, settings.environment == .production ? "WARD_ENV=production"
              : "WARD_ENV=\(settings.environment.rawValue): development defaults (a generated secret, relaxed policies) are in force")
        check("secret key", settings.secretKey != nil, settings.secretKey != nil ? "WARD_SECRET_KEY is set"
              : "WARD_SECRET_KEY is unset: a key generated under the data directory signs tokens and wraps the clinics' document keys")
        check("HTTPS", settings.trustProxy && settings.httpsRedirect,
              settings.trustProxy && settings.httpsRedirect ? "behind a trusted TLS proxy, plain HTTP sent to HTTPS"
                : "set WARD_TRUST_PROXY=true behind the TLS proxy and WARD_HTTPS_REDIRECT=true so no request is served in the clear")
        check("allowed hosts", !settings.allowedHosts.isEmpty, settings.allowedHosts.isEmpty
              ? "WARD_ALLOWED_HOSTS is unset: any Host header is answered (DNS rebinding, forged links)" : settings.allowedHosts.joined(separator: ", "))
        let missing = ["address", "user", "session"].filter { name in !settings.rateLimits.contains { $0.name == name } }
        check("rate limits", missing.isEmpty, missing.isEmpty ? settings.rateLimits.map(\.headerValue).joined(separator: ", ")
              : "policies turned off: \(missing.joined(separator: ", "))")
        let clear = settings.corsOrigins.filter { $0.hasPrefix("http://") }
        check("CORS", clear.isEmpty, clear.isEmpty ? (settings.corsOrigins.isEmpty ? "no origin allowed for every clinic" : settings.corsOrigins.joined(separator: ", "))
              : "origins over plain HTTP may send credentials in the clear: \(clear.joined(separator: ", "))")
        findings.append(await backups(settings))

        guard let url = settings.databaseURL else {
            check("database", true, "embedded SQLite under \(settings.dataDirectory): no network, no roles")
            return findings
        }
        let query = URLComponents(string: url)?.queryItems ?? []
        let mode = query.first { $0.name == "sslmode" }?.value ?? "disable"
        let rootCertificate = query.first { $0.name == "sslrootcert" }?.value
        let trusted = rootCertificate.map { $0 == "system" ? "the system's CAs" : $0 } ?? "the system's CAs"
        switch mode {
        case "verify-full":
            check("database TLS", true, "sslmode=verify-full: encrypted, the server's certificate chains to \(trusted) and names the host")
        case "verify-ca", "require":
            check("database TLS", false, "sslmode=\(mode): encrypted, but the server's name is not checked (anyone with a certificate from the CA, or any certificate, can stand in): use verify-full")
        default:
            check("database TLS", false, "sslmode=\(mode): PostgreSQL traffic (patient data) may go in the clear: use verify-full with sslrootcert")
        }
        guard let storage else {
            check("database role", false, "the database could not be reached to check the role")
            return findings
        }
        do {
            // Powers beyond the rows: a role that can make or own schemas can change them, and
            // one that can change the audit trail can rewrite it.
            let row = try await storage.controlPlane.read { database in
                try await database.raw("""
                    SELECT r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
                           has_database_privilege(current_database(), 'CREATE') AS createschema,
                           EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid
                                   AND (n.nspname = \(bind: Storage.platformSchema) OR n.nspname LIKE 't\\_%')) AS owner,
                           EXISTS (SELECT 1 FROM pg_tables t WHERE t.tablename = 'audit_events'
                                   AND has_schema_privilege(t.schemaname, 'USAGE')
                                   AND (has_table_privilege(format('%I.%I', t.schemaname, t.tablename), 'UPDATE')
                                        OR has_table_privilege(format('%I.%I', t.schemaname, t.tablename), 'DELETE'))) AS rewrites
                    FROM pg_roles r WHERE r.rolname = current_user
                    """).first()
            }
            let powers = try [("superuser", "is a superuser"), ("createrole", "can create roles"), ("createdb", "can create databases"),
                              ("createschema", "can create schemas"), ("owner", "owns Ward's schemas"),
                              ("rewrites", "can change or remove audit events")].filter { try row?.decode(column: $0.0, as: Bool.self) ?? true }.map(\.1)
            check("database role", powers.isEmpty, powers.isEmpty ? "the serving role holds no power beyond its rows and cannot change the audit trail"
                  : "the serving role \(powers.joined(separator: ", ")): serve with a role that only reads and writes rows and keep the schemas under an owner role (DATABASE_OWNER_URL; deploy/postgres/roles.sql)")
        } catch {
            check("database role", false, "the role could not be read: \(error)")
        }
        return findings
    }

    /// Backups leave the node's disk and one is recent: the nightly job's, or an operator's.
    /// With an `s3://` destination the bucket is asked (one listing, one manifest): it is what
    /// a lost node leaves, and asking it also proves the credentials and the network path,
    /// which a record on the node's disk of an upload that once worked would not.
    package static func backups(_ settings: WardSettings, now: Date = Date()) async -> Finding {
        guard settings.backupURL != nil, let directory = try? Backups.directory(settings) else {
            return Finding(name: "backups", passed: false, detail: "WARD_BACKUP_URL is unset: backups go under the data directory and are lost with its disk")
        }
        let bucket: BackupBucket?
        do {
            bucket = try BackupBucket.configured(settings)
        } catch {
            return Finding(name: "backups", passed: false, detail: "\(error)")
        }
        let newest: BackupManifest?
        let place: String
        if let bucket {
            place = bucket.location
            do {
                newest = try await bucket.newest()
            } catch {
                return Finding(name: "backups", passed: false, detail: "the backups in \(place) cannot be read: \(error)")
            }
        } else {
            place = directory.path
            let data = URL(fileURLWithPath: settings.dataDirectory).standardizedFileURL.path
            if (directory.standardizedFileURL.path + "/").hasPrefix(data + "/") {
                return Finding(name: "backups", passed: false, detail: "WARD_BACKUP_URL lies under the data directory: a lost disk loses the backups with it")
            }
            newest = Backups.list(in: directory).first
        }
        guard let newest, let made = Timestamp.date(newest.createdAt), now.timeIntervalSince(made) < 26 * 3600 else {
            return Finding(name: "backups", passed: false, detail: "no backup of the last 26 hours in \(place): run `ward backup create` (the backup.nightly job runs at 02:15 UTC)")
        }
        return Finding(name: "backups", passed: true, detail: "newest \(newest.id), \(Int(now.timeIntervalSince(made) / 3600)) h old, in \(place)")
    }
}
