import Configuration
import Foundation

/// Everything a Ward process is configured with, read once at start-up and passed down.
package struct WardSettings: Sendable {
    /// Whether the node runs for development or production.
    package enum Environment: String, Sendable { case development, production }

    package var environment: Environment
    package var httpHost: String
    package var httpPort: Int
    package var trustProxy: Bool
    /// Host names the node answers; empty: any.
    package var allowedHosts: [String]
    package var httpsRedirect: Bool
    package var hstsPreload: Bool
    /// Browser origins allowed to call the API for every clinic.
    package var corsOrigins: [String]
    package var baseDomain: String?
    package var dataDirectory: String
    /// Signing key material; nil until resolved (see `WardSecretKey`).
    package var secretKey: String?
    package var logLevel: String
    package var logBodies: Bool
    package var bodyLimit: Int
    package var requestTimeout: Duration
    /// How long each readiness check may take before `/health/ready` counts it failed.
    package var readinessCheckTimeout: Duration
    package var shutdownTimeout: Duration
    package var databaseURL: String?
    package var databaseReadURL: String?
    package var databaseReplicaMaxLag: Duration
    /// The schema owner's URL, when it is another role than `databaseURL`'s.
    package var databaseOwnerURL: String?
    /// The read replicas' URLs, in the order given.
    package var databaseReadURLs: [String] { Self.list(databaseReadURL) }

    private static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    package var databasePoolSize: Int
    package var databaseConnectTimeout: Duration
    package var databaseStatementTimeout: Duration
    package var databasePreparedStatements: Bool
    package var sqliteReaders: Int
    package var sqliteOpenTenants: Int
    package var auth: AuthSettings
    package var breakGlassDuration: Duration
    package var auditReads: Bool
    package var auditDirectReads: Int
    package var auditMoveInterval: Duration
    package var auditRetentionDays: Int
    /// Where backups go (`file://` directory or `s3://bucket/prefix`); nil: `backups/` under
    /// the data directory.
    package var backupURL: String?
    /// Days backups stay on the node's disk.
    package var backupRetentionDays: Int
    /// Days backups stay in the bucket of an `s3://` destination.
    package var backupRemoteRetentionDays: Int
    package var jobs: JobSettings
    package var tenantPurgeGraceDays: Int
    package var mail: MailSettings
    package var documents: DocumentSettings
    package var billing: BillingSettings
    /// The rate-limit policies routes name (`APIOperation.limited(as:)`).
    package var rateLimits: [RateLimitPolicy]

    /// The raw text of every setting that was given, for `ward config`.
    package var given: [Setting: String]

    /// Reads the settings from environment variables, then from the JSON file named by
    /// `WARD_CONFIG_FILE` (the environment wins), then the defaults. Secrets may instead be
    /// given as `<VAR>_FILE` paths, as container orchestrators mount them.
    package static func load(environment variables: [String: String] = ProcessInfo.processInfo.environment) async throws -> WardSettings {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider(environmentVariables: variables)]
        if let path = variables[Setting.configFile.environmentVariable], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw SettingsError.invalid(Setting.configFile, "file \(path) does not exist")
            }
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(path)))
            } catch {
                throw SettingsError.invalid(Setting.configFile, "file \(path) is not a valid JSON configuration: \(error)")
            }
        }
        let reader = ConfigReader(providers: providers)
        var given: [Setting: String] = [:]
        for setting in Setting.all {
            if setting.isSecret, let path = variables[setting.environmentVariable + "_FILE"], !path.isEmpty {
                guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw SettingsError.invalid(setting, "cannot read \(setting.environmentVariable)_FILE at \(path)")
                }
                given[setting] = contents.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let text = reader.text(for: setting) {
                given[setting] = text
            }
        }
        return try WardSettings(given: given)
    }

    /// Builds settings from raw text values, applying defaults and validating each one.
    package init(given: [Setting: String]) throws {
        self.given = given
        func text(_ setting: Setting) -> String? {
            let value = given[setting] ?? setting.defaultValue
            return value?.isEmpty == true ? nil : value
        }
        func integer(_ setting: Setting, in range: ClosedRange<Int>) throws -> Int {
            guard let raw = text(setting), let value = Int(raw), range.contains(value) else {
                throw SettingsError.invalid(setting, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        func seconds(_ setting: Setting) throws -> Duration {
            guard let raw = text(setting), let value = Double(raw), value > 0, value <= 86_400 else {
                throw SettingsError.invalid(setting, "must be a number of seconds greater than 0")
            }
            return .milliseconds(Int64(value * 1000))
        }
        func flag(_ setting: Setting) throws -> Bool {
            switch text(setting)?.lowercased() {
            case "1", "true", "yes", "on": return true
            case nil, "0", "false", "no", "off": return false
            default: throw SettingsError.invalid(setting, "must be true or false")
            }
        }

        guard let environment = Environment(rawValue: text(.environment) ?? "") else {
            throw SettingsError.invalid(.environment, "must be development or production")
        }
        self.environment = environment
        self.httpHost = text(.httpHost) ?? "127.0.0.1"
        self.httpPort = try integer(.httpPort, in: 0...65_535)
        self.trustProxy = try flag(.trustProxy)
        self.allowedHosts = (text(.allowedHosts) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        if let bad = allowedHosts.first(where: { !HostRules.isPattern($0) }) {
            throw SettingsError.invalid(.allowedHosts, "\(bad) is not a host name or *.domain")
        }
        self.httpsRedirect = try flag(.httpsRedirect)
        self.hstsPreload = try flag(.hstsPreload)
        self.corsOrigins = try (text(.corsOrigins) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { given in
                guard let origin = HostRules.origin(given) else {
                    throw SettingsError.invalid(.corsOrigins, "\(given) is not an origin such as https://portal.example.org (scheme, host and port only; no wildcard)")
                }
                return origin
            }
        self.baseDomain = text(.baseDomain)?.lowercased()
        self.dataDirectory = text(.dataDirectory) ?? "./var"
        self.secretKey = text(.secretKey)
        let level = text(.logLevel)?.lowercased() ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw SettingsError.invalid(.logLevel, "must be one of trace, debug, info, notice, warning, error, critical")
        }
        self.logLevel = level
        self.logBodies = try flag(.logBodies)
        self.bodyLimit = try integer(.bodyLimit, in: 1_024...1_073_741_824)
        self.requestTimeout = try seconds(.requestTimeout)
        self.readinessCheckTimeout = try seconds(.readinessCheckTimeout)
        self.shutdownTimeout = try seconds(.shutdownTimeout)
        self.databaseURL = text(.databaseURL)
        self.databaseReadURL = text(.databaseReadURL)
        if let url = databaseURL, !url.hasPrefix("postgres://"), !url.hasPrefix("postgresql://") {
            throw SettingsError.invalid(.databaseURL, "must start with postgres:// (leave it unset for embedded SQLite)")
        }
        if databaseReadURL != nil, databaseURL == nil {
            throw SettingsError.invalid(.databaseReadURL, "needs DATABASE_URL: a read replica only exists beside a PostgreSQL primary")
        }
        if Self.list(databaseReadURL).contains(where: { !$0.hasPrefix("postgres://") && !$0.hasPrefix("postgresql://") }) {
            throw SettingsError.invalid(.databaseReadURL, "each replica's URL must start with postgres://")
        }
        self.databaseReplicaMaxLag = try seconds(.databaseReplicaMaxLag)
        self.databaseOwnerURL = text(.databaseOwnerURL)
        if let owner = databaseOwnerURL {
            guard let url = databaseURL else {
                throw SettingsError.invalid(.databaseOwnerURL, "needs DATABASE_URL: it names the role that serves, this the one that owns the schemas")
            }
            guard owner.hasPrefix("postgres://") || owner.hasPrefix("postgresql://"), let ownerRole = URLComponents(string: owner)?.user, !ownerRole.isEmpty else {
                throw SettingsError.invalid(.databaseOwnerURL, "must be postgres://owner:password@host:port/database")
            }
            // The serving role is spliced into GRANT statements: a plain lower-case name only.
            guard let role = URLComponents(string: url)?.user, role.range(of: "^[a-z][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
                throw SettingsError.invalid(.databaseURL, "with DATABASE_OWNER_URL, its user must be a lower-case role name ([a-z][a-z0-9_]*) the owner grants access to")
            }
            guard ownerRole != role else {
                throw SettingsError.invalid(.databaseOwnerURL, "names the same role as DATABASE_URL (\(role)); leave it unset, or serve with a role that does not own the schemas")
            }
        }
        self.databasePoolSize = try integer(.databasePoolSize, in: 1...1_000)
        self.databaseConnectTimeout = try seconds(.databaseConnectTimeout)
        self.databaseStatementTimeout = try seconds(.databaseStatementTimeout)
        self.databasePreparedStatements = try flag(.databasePreparedStatements)
        self.sqliteReaders = try integer(.sqliteReaders, in: 1...64)
        self.sqliteOpenTenants = try integer(.sqliteOpenTenants, in: 1...100_000)
        self.breakGlassDuration = try seconds(.breakGlassDuration)
        self.auditReads = try flag(.auditReads)
        self.auditDirectReads = try integer(.auditDirectReads, in: 0...100_000)
        self.auditMoveInterval = try seconds(.auditMoveInterval)
        self.auditRetentionDays = try integer(.auditRetentionDays, in: 1...36_500)
        self.backupURL = text(.backupURL)
        self.backupRetentionDays = try integer(.backupRetentionDays, in: 1...36_500)
        self.backupRemoteRetentionDays = try integer(.backupRemoteRetentionDays, in: 1...36_500)
        self.tenantPurgeGraceDays = try integer(.tenantPurgeGraceDays, in: 0...3_650)
        self.jobs = JobSettings(
            concurrency: try integer(.jobsConcurrency, in: 1...256),
            pollInterval: try seconds(.jobsPollInterval),
            lease: try seconds(.jobsLease),
            retryDelay: try seconds(.jobsRetryDelay),
            maxAttempts: try integer(.jobsMaxAttempts, in: 1...100),
            schedulerTick: try seconds(.schedulerTick)
        )
        let from = text(.emailFrom) ?? "Ward <ward@localhost>"
        guard from.contains("@"), !from.contains(where: \.isNewline) else { throw SettingsError.invalid(.emailFrom, "must be an address, optionally with a name: Ward <ward@clinic.example>") }
        self.mail = MailSettings(
            smtpURL: text(.smtpURL), smtpCAFile: text(.smtpCAFile), from: from, ratePerMinute: try integer(.emailRate, in: 1...100_000),
            dkimSelector: text(.dkimSelector), dkimKeyFile: text(.dkimKeyFile), pdfFont: text(.pdfFont)
        )
        if (mail.dkimSelector == nil) != (mail.dkimKeyFile == nil) {
            throw SettingsError.invalid(.dkimSelector, "DKIM signing needs both WARD_EMAIL_DKIM_SELECTOR and WARD_EMAIL_DKIM_KEY_FILE")
        }
        if let url = text(.storageURL), !url.hasPrefix("file://"), !url.hasPrefix("s3://") {
            throw SettingsError.invalid(.storageURL, "must start with file:// or s3://")
        }
        self.documents = DocumentSettings(
            storageURL: text(.storageURL), uploadLimit: try integer(.documentUploadLimit, in: 1_024...10_737_418_240),
            accessKeyID: text(.awsAccessKeyID), secretAccessKey: text(.awsSecretAccessKey), sessionToken: text(.awsSessionToken)
        )
        if let url = backupURL { try Self.checkBackupURL(url, documents: documents) }
        let currency = text(.billingCurrency) ?? "USD"
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw SettingsError.invalid(.billingCurrency, "must be an ISO 4217 code such as USD, EUR or INR")
        }
        let stripeAPI = text(.stripeAPIURL) ?? "https://api.stripe.com"
        guard let stripeURL = URL(string: stripeAPI), ["http", "https"].contains(stripeURL.scheme ?? ""), stripeURL.host != nil else {
            throw SettingsError.invalid(.stripeAPIURL, "must be an http(s) URL")
        }
        self.billing = BillingSettings(
            currency: currency, stripeSecretKey: text(.stripeSecretKey),
            webhookSecrets: text(.stripeWebhookSecret).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? [],
            stripeAPIURL: stripeAPI.hasSuffix("/") ? String(stripeAPI.dropLast()) : stripeAPI
        )
        switch RateLimitPolicy.configured(text(.rateLimits) ?? "") {
        case .success(let policies): self.rateLimits = policies
        case .failure(let error): throw SettingsError.invalid(.rateLimits, "\(error.entry) is not name=LIMIT/UNIT (units s, min, h, d) or name=off, as in booking=100/h")
        }
        self.auth = AuthSettings(
            previousSecretKeys: text(.previousSecretKeys).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            accessTokenLifetime: try seconds(.accessTokenLifetime),
            sessionIdleTimeout: try seconds(.sessionIdleTimeout),
            sessionMaximum: try seconds(.sessionMaximum),
            lockoutThreshold: try integer(.lockoutThreshold, in: 1...100),
            lockoutDuration: try seconds(.lockoutDuration),
            loginRate: try integer(.loginRate, in: 1...100_000),
            bcryptCost: try integer(.bcryptCost, in: 4...31),
            passwordMinimumLength: try integer(.passwordMinimumLength, in: 8...128)
        )
    }

    /// A backup destination Ward can use: a `file://` directory, or an `s3://` bucket with the
    /// credentials to reach it and apart from the documents' objects (a prefix of its own, so
    /// neither's listing sees the other's keys).
    static func checkBackupURL(_ url: String, documents: DocumentSettings) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["file", "s3"].contains(scheme) else {
            throw SettingsError.invalid(.backupURL, "must be a file:// directory or an s3://bucket/prefix location")
        }
        if scheme == "file" {
            guard !components.path.isEmpty else { throw SettingsError.invalid(.backupURL, "a file:// destination needs a path: file:///var/backups/ward") }
            return
        }
        guard let bucket = components.host, !bucket.isEmpty else {
            throw SettingsError.invalid(.backupURL, "an s3:// destination needs a bucket: s3://bucket/prefix?endpoint=https://…&region=…")
        }
        guard documents.accessKeyID != nil, documents.secretAccessKey != nil else {
            throw SettingsError.invalid(.backupURL, "an s3:// destination needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE forms)")
        }
        func prefix(_ url: URLComponents) -> String { url.path.split(separator: "/").joined(separator: "/") + "/" }
        if let storage = documents.storageURL.flatMap({ URLComponents(string: $0) }), storage.scheme == "s3", storage.host == bucket {
            let (backups, objects) = (prefix(components), prefix(storage))
            if backups.hasPrefix(objects) || objects.hasPrefix(backups) {
                throw SettingsError.invalid(.backupURL, "shares its bucket prefix with WARD_STORAGE_URL; give backups a prefix of their own (s3://\(bucket)/backups)")
            }
        }
    }

    /// Whether the node keeps its data in PostgreSQL rather than embedded SQLite.
    package var usesPostgres: Bool { databaseURL != nil }

    /// The role DATABASE_URL connects as (the one serving requests); nil on SQLite.
    package var databaseRole: String? { databaseURL.flatMap { URLComponents(string: $0)?.user } }

    /// Each setting with its effective value, secrets masked, for `ward config`.
    package func printable() -> [(setting: Setting, value: String, source: String)] {
        Setting.all.map { setting in
            let source = given[setting] != nil ? "set" : "default"
            guard let value = given[setting] ?? setting.defaultValue else { return (setting, "(unset)", source) }
            return (setting, setting.isSecret ? Self.mask(value) : value, source)
        }
    }

    /// Masks a secret: URLs keep their scheme, user and host but lose the password; other
    /// values show only their length.
    package static func mask(_ value: String) -> String {
        if let url = URLComponents(string: value), url.scheme != nil, url.host != nil {
            var masked = url
            if masked.password != nil { masked.password = "****" }
            return masked.string ?? "****"
        }
        return "**** (\(value.utf8.count) bytes)"
    }
}

/// How users authenticate and how long their sessions last.
package struct AuthSettings: Sendable {
    package var previousSecretKeys: [String]
    package var accessTokenLifetime: Duration
    package var sessionIdleTimeout: Duration
    package var sessionMaximum: Duration
    package var lockoutThreshold: Int
    package var lockoutDuration: Duration
    package var loginRate: Int
    package var bcryptCost: Int
    package var passwordMinimumLength: Int
}

/// How a node's job workers and scheduler behave.
package struct JobSettings: Sendable {
    package var concurrency: Int
    package var pollInterval: Duration
    package var lease: Duration
    package var retryDelay: Duration
    package var maxAttempts: Int
    package var schedulerTick: Duration

    package init(concurrency: Int, pollInterval: Duration, lease: Duration, retryDelay: Duration, maxAttempts: Int, schedulerTick: Duration) {
        self.concurrency = concurrency
        self.pollInterval = pollInterval
        self.lease = lease
        self.retryDelay = retryDelay
        self.maxAttempts = maxAttempts
        self.schedulerTick = schedulerTick
    }
}

/// How email leaves the node, and what PDFs are set in.
package struct MailSettings: Sendable {
    /// The relay; nil writes `.eml` files instead.
    package var smtpURL: String?
    package var smtpCAFile: String?
    package var from: String
    package var ratePerMinute: Int
    package var dkimSelector: String?
    package var dkimKeyFile: String?
    package var pdfFont: String?
}

/// Where documents are kept and how large one may be.
package struct DocumentSettings: Sendable {
    /// `file://` or `s3://`; nil keeps them under the data directory.
    package var storageURL: String?
    package var uploadLimit: Int
    package var accessKeyID: String?
    package var secretAccessKey: String?
    package var sessionToken: String?
}

/// The node's billing defaults and how it reaches Stripe.
package struct BillingSettings: Sendable {
    package var currency: String
    package var stripeSecretKey: String?
    package var webhookSecrets: [String]
    package var stripeAPIURL: String
}

/// A setting whose value Ward cannot use.
package enum SettingsError: Error, CustomStringConvertible, Equatable {
    case invalid(Setting, String)
    case insecureForProduction([String])

    package var description: String {
        switch self {
        case .invalid(let setting, let reason):
            "\(setting.environmentVariable): \(reason)"
        case .insecureForProduction(let problems):
            "WARD_ENV=production refuses to start on insecure settings:\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}

extension ConfigReader {
    /// The setting's value as text, whatever type the provider holds it as.
    fileprivate func text(for setting: Setting) -> String? {
        let key = ConfigKey(setting.key)
        if let value = string(forKey: key, isSecret: setting.isSecret) { return value }
        if let value = int(forKey: key) { return String(value) }
        if let value = double(forKey: key) { return String(value) }
        if let value = bool(forKey: key) { return String(value) }
        return nil
    }
}
