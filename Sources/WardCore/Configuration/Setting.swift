/// One configurable setting: its configuration key, the environment variable that sets it,
/// its default and what it means. The catalogue of every setting lives in `Setting.all`, so
/// `ward config` and the README's table cannot drift from what the server reads.
package struct Setting: Sendable, Hashable {
    /// The dotted configuration key, as a JSON configuration file nests it (`ward.http.port`).
    package let key: String
    /// The default as text, or nil when the setting is unset by default.
    package let defaultValue: String?
    /// Whether the value is a secret: masked when printed, and also readable from `<VAR>_FILE`.
    package let isSecret: Bool
    /// What the setting means, for operators.
    package let meaning: String

    package init(_ key: String, default defaultValue: String? = nil, secret: Bool = false, _ meaning: String) {
        self.key = key
        self.defaultValue = defaultValue
        self.isSecret = secret
        self.meaning = meaning
    }

    /// The environment variable for this key: components joined by `_`, camel case split,
    /// upper-cased, the same rule swift-configuration's environment provider applies.
    package var environmentVariable: String {
        var name = ""
        for (index, component) in key.split(separator: ".").enumerated() {
            if index > 0 { name.append("_") }
            for character in component {
                if character.isUppercase, !name.isEmpty, name.last != "_" { name.append("_") }
                name.append(character.uppercased())
            }
        }
        return name
    }
}

extension Setting {
    package static let environment = Setting("ward.env", default: "development", "`development` or `production`; production refuses insecure settings")
    package static let httpHost = Setting("ward.http.host", default: "127.0.0.1", "address the HTTP server binds")
    package static let httpPort = Setting("ward.http.port", default: "8080", "port the HTTP server binds")
    package static let trustProxy = Setting("ward.trust.proxy", default: "false", "trust `X-Forwarded-Proto` and `X-Forwarded-For` from the TLS-terminating proxy in front (required in production)")
    package static let allowedHosts = Setting("ward.allowed.hosts", "comma-separated host names the node answers (`*.example.org` for its subdomains); other Host headers are 400. Unset: any (health probes are always answered)")
    package static let httpsRedirect = Setting("ward.https.redirect", default: "false", "send plain-HTTP requests (by the trusted proxy's X-Forwarded-Proto) to HTTPS: 308 for GET and HEAD, 400 for the rest; health probes exempt")
    package static let hstsPreload = Setting("ward.hsts.preload", default: "false", "add `preload` to Strict-Transport-Security (sent on HTTPS requests through the trusted proxy); only once the domain is submitted to the preload list")
    package static let corsOrigins = Setting("ward.cors.origins", "comma-separated browser origins (`https://portal.example.org`) allowed to call the API for every clinic, with credentials; each clinic may add its own. No wildcard")
    package static let baseDomain = Setting("ward.base.domain", "domain whose subdomains name tenants (`<slug>.BASE`)")
    package static let dataDirectory = Setting("ward.data.dir", default: "./var", "directory holding all local state: SQLite files, generated keys")
    package static let secretKey = Setting("ward.secret.key", secret: true, "key material for signing tokens, at least 32 bytes; generated under the data directory in development")
    package static let logLevel = Setting("ward.log.level", default: "info", "trace, debug, info, notice, warning, error or critical")
    package static let logBodies = Setting("ward.log.bodies", default: "false", "log request bodies (up to 4 KiB each) for debugging; refused in production")
    package static let bodyLimit = Setting("ward.body.limit", default: "10485760", "largest accepted request body in bytes (larger → 413)")
    package static let requestTimeout = Setting("ward.request.timeout", default: "30", "seconds a request may run before it is answered 503")
    package static let readinessCheckTimeout = Setting("ward.readiness.checkTimeout", default: "3", "seconds each `/health/ready` check may take before it counts as failed")
    package static let shutdownTimeout = Setting("ward.shutdown.timeout", default: "25", "seconds in-flight work may take to finish after SIGTERM")
    package static let configFile = Setting("ward.config.file", "JSON file read after the environment (keys nested as in `ward.http.port`)")
    package static let databaseURL = Setting("database.url", secret: true, "`postgres://user:pass@host:port/db`; unset means embedded SQLite under the data directory")
    package static let databaseOwnerURL = Setting(
        "database.owner.url", secret: true,
        "the role owning Ward's PostgreSQL schemas (migrations, provisioning, purges, restores, audit retention); DATABASE_URL's role then serves with no power to create, alter or drop anything or to change the audit trail. Unset: DATABASE_URL's role does both"
    )
    package static let databaseReadURL = Setting(
        "database.read.url", secret: true,
        "PostgreSQL read replicas (streaming standbys of DATABASE_URL), comma-separated: GET requests' tenant reads go to one that has replayed the session's own writes, else to the primary; writes, audit appends and jobs stay on the primary"
    )
    package static let databaseReplicaMaxLag = Setting("ward.db.replica.maxLag", default: "5", "seconds a read replica may lag behind the primary and still serve reads (checked every second)")
    package static let databasePoolSize = Setting("ward.db.pool.size", default: "10", "maximum connections in each PostgreSQL pool")
    package static let databaseConnectTimeout = Setting("ward.db.connect.timeout", default: "10", "seconds to wait for a database connection")
    package static let databaseStatementTimeout = Setting("ward.db.statement.timeout", default: "30", "seconds a PostgreSQL statement may run")
    package static let databasePreparedStatements = Setting(
        "ward.db.prepared.statements", default: "true",
        "keep the hot statements prepared on each PostgreSQL connection; `false` behind a pooler in transaction mode that does not carry them (PgBouncer before 1.21)"
    )
    package static let previousSecretKeys = Setting("ward.secret.previousKeys", secret: true, "comma-separated earlier secret keys: tokens they signed still verify until they expire (key rotation)")
    package static let accessTokenLifetime = Setting("ward.auth.accessTtl", default: "900", "seconds an access token is valid")
    package static let sessionIdleTimeout = Setting("ward.auth.sessionIdle", default: "1800", "seconds without use after which a session ends")
    package static let sessionMaximum = Setting("ward.auth.sessionMax", default: "43200", "seconds after login at which a session ends in any case")
    package static let lockoutThreshold = Setting("ward.auth.lockoutThreshold", default: "5", "failed logins in a row that lock an account")
    package static let lockoutDuration = Setting("ward.auth.lockoutDuration", default: "900", "seconds a locked account stays locked")
    package static let rateLimits = Setting(
        "ward.rate.limits", default: "address=100/min,user=1000/h,session=600/min,platform=300/min,booking=100/h,export=60/h,upload=600/h",
        "rate-limit policies, comma-separated `name=LIMIT/UNIT` (units s, min, h, d) or `name=off`, each replacing that default: `address` API calls without credentials per client address, `user` API calls per access token's user, `session` web pages per session, `platform` control-plane calls per administrator, and the route classes `booking`, `export`, `upload` per user"
    )
    package static let loginRate = Setting("ward.auth.loginRate", default: "30", "login attempts allowed per client address per minute")
    package static let bcryptCost = Setting("ward.auth.bcryptCost", default: "12", "bcrypt cost of password hashes (production refuses less than 10)")
    package static let passwordMinimumLength = Setting("ward.auth.passwordMinLength", default: "12", "shortest password accepted (NIST 800-63B; at most 128)")
    package static let breakGlassDuration = Setting("ward.audit.breakGlassDuration", default: "3600", "seconds a break-glass grant opens one patient's record")
    package static let auditReads = Setting("ward.audit.reads", default: "true", "audit reads and searches of patient data; `false` only to measure audit's cost in benchmarks (refused in production)")
    package static let auditDirectReads = Setting("ward.audit.directReads", default: "8", "reads of one tenant awaiting their audit events at once beyond which the next commit in the tenant's own trail (which batches them) rather than in the node's audit journal; 0 sends every read to its trail")
    package static let auditMoveInterval = Setting("ward.audit.moveInterval", default: "1", "seconds between moves of this node's journaled read events into their tenants' trails (longer: fewer, larger commits; reading a trail moves its tenant's first either way)")
    package static let auditRetentionDays = Setting("ward.audit.retentionDays", default: "2190", "days audit events are kept before the retention job removes the oldest (HIPAA asks six years: production refuses less than 2190)")
    package static let jobsConcurrency = Setting("ward.jobs.concurrency", default: "4", "jobs a node's worker runs at once")
    package static let jobsPollInterval = Setting("ward.jobs.pollInterval", default: "1", "seconds an idle worker waits before looking for work again")
    package static let jobsLease = Setting("ward.jobs.lease", default: "60", "seconds a claimed job stays leased without renewal; after that another worker takes it over")
    package static let jobsRetryDelay = Setting("ward.jobs.retryDelay", default: "60", "seconds before a failed job's first retry; doubled each further attempt, with ±20% jitter")
    package static let jobsMaxAttempts = Setting("ward.jobs.maxAttempts", default: "4", "attempts a job gets (the first and its retries) before it is dead")
    package static let schedulerTick = Setting("ward.scheduler.tick", default: "30", "seconds between the scheduler's looks at its cron schedules")
    package static let tenantPurgeGraceDays = Setting("ward.tenant.purgeGraceDays", default: "30", "days a deleted tenant's data is kept (and can be restored) before a job purges it")
    package static let sqliteOpenTenants = Setting("ward.sqlite.openTenants", default: "128", "tenant files kept open at most; the least recently used beyond it are closed (and reopened on next use)")
    package static let sqliteReaders = Setting("ward.sqlite.readers", default: "4", "read connections per SQLite database file (there is always one writer)")
    package static let pdfFont = Setting("ward.pdf.font", "TrueType font file PDFs embed (every script it covers renders); unset: the first found of FreeSans, Noto Sans, DejaVu Sans; none: Helvetica, Latin-1 only")
    package static let smtpURL = Setting("ward.smtp.url", secret: true, "`smtp://user:pass@host:587` (STARTTLS; `?tls=none` for a relay on this machine) or `smtps://user:pass@host:465`; unset: each email is written as an .eml file under the data directory's `mail/`")
    package static let smtpCAFile = Setting("ward.smtp.caFile", "PEM certificates to trust for the SMTP relay instead of the system's (a private CA)")
    package static let emailFrom = Setting("ward.email.from", default: "Ward <ward@localhost>", "the From address of every email; its domain names Message-IDs and DKIM signatures")
    package static let emailRate = Setting("ward.email.ratePerMinute", default: "60", "emails one tenant sends per minute at most; further ones are scheduled later, none dropped")
    package static let dkimSelector = Setting("ward.email.dkim.selector", "DKIM selector: with the key file set, every email is signed (rsa-sha256, relaxed/relaxed) for the From domain")
    package static let dkimKeyFile = Setting("ward.email.dkim.keyFile", secret: true, "PEM file of the RSA private key whose public half is published at <selector>._domainkey.<domain>")

    package static let storageURL = Setting("ward.storage.url", "where documents are kept, encrypted: `file:///path` or `s3://bucket/prefix?endpoint=https://…&region=…` (any S3-compatible store); unset: `documents/` under the data directory")
    package static let documentUploadLimit = Setting("ward.documents.uploadLimit", default: "26214400", "largest document accepted in bytes (larger → 413); uploads stream, so memory does not grow with it")
    package static let awsAccessKeyID = Setting("aws.accessKeyId", secret: true, "access key of the S3-compatible store (read as AWS's own tools read it)")
    package static let awsSecretAccessKey = Setting("aws.secretAccessKey", secret: true, "secret key of the S3-compatible store")
    package static let awsSessionToken = Setting("aws.sessionToken", secret: true, "session token of temporary S3 credentials, when they are such")
    package static let backupURL = Setting("ward.backup.url", "where `ward backup` writes: a `file:///path` directory, or `s3://bucket/prefix?endpoint=https://…&region=…` (any S3-compatible store, with the AWS_* credentials below; each backup is made in `backups/` under the data directory, then uploaded, its manifest last); keep it off the node's disk and keep WARD_SECRET_KEY elsewhere too (backups open only with it); unset: `backups/` under the data directory")
    package static let backupRetentionDays = Setting("ward.backup.retentionDays", default: "30", "days `ward backup prune` and the nightly job keep backups on the node's disk (the newest is always kept; with an s3:// destination, one not yet uploaded stays until the remote retention)")
    package static let backupRemoteRetentionDays = Setting("ward.backup.remoteRetentionDays", default: "90", "with an s3:// WARD_BACKUP_URL, days backups are kept in the bucket (the newest there is always kept)")
    package static let billingCurrency = Setting("ward.billing.currency", default: "USD", "ISO 4217 currency of clinics that have not chosen theirs in the billing settings")
    package static let stripeSecretKey = Setting("ward.stripe.secretKey", secret: true, "Stripe secret key for clinics without keys of their own (one Stripe account for the installation); unset: card payments only where a clinic set its key")
    package static let stripeWebhookSecret = Setting("stripe.webhookSecret", secret: true, "Stripe webhook signing secret(s), comma-separated during a rotation, for clinics without their own")
    package static let stripeAPIURL = Setting("ward.stripe.apiUrl", default: "https://api.stripe.com", "base URL of Stripe's API (a Stripe stand-in in tests)")

    /// Every setting Ward reads, in the order `ward config` prints them.
    package static let all: [Setting] = [
        environment, httpHost, httpPort, trustProxy, allowedHosts, httpsRedirect, hstsPreload, corsOrigins, baseDomain, dataDirectory, secretKey,
        logLevel, logBodies, bodyLimit, requestTimeout, readinessCheckTimeout, shutdownTimeout, configFile,
        databaseURL, databaseOwnerURL, databaseReadURL, databaseReplicaMaxLag, databasePoolSize, databaseConnectTimeout,
        databaseStatementTimeout, databasePreparedStatements, sqliteReaders, sqliteOpenTenants, previousSecretKeys, accessTokenLifetime,
        sessionIdleTimeout, sessionMaximum, lockoutThreshold, lockoutDuration, loginRate, rateLimits, bcryptCost,
        passwordMinimumLength, breakGlassDuration, auditReads, auditDirectReads, auditMoveInterval, auditRetentionDays, jobsConcurrency,
        jobsPollInterval, jobsLease, jobsRetryDelay, jobsMaxAttempts, schedulerTick, tenantPurgeGraceDays,
        pdfFont, smtpURL, smtpCAFile, emailFrom, emailRate, dkimSelector, dkimKeyFile,
        storageURL, documentUploadLimit, awsAccessKeyID, awsSecretAccessKey, awsSessionToken, backupURL, backupRetentionDays, backupRemoteRetentionDays,
        billingCurrency, stripeSecretKey, stripeWebhookSecret, stripeAPIURL,
    ]
}
