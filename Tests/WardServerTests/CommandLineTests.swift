import Foundation
import SQLKit
import Synchronization
import Testing
import WardAudit
import WardServer
import WardStorage
import WardTestSupport

/// The `ward` executable as an operator runs it: exit statuses and output.
@Suite("Command line")
struct CommandLineTests {
    struct Run: Sendable { let status: Int32; let output: String }

    /// Runs the built `ward` with `arguments`, `environment` and optional standard input.
    static func ward(_ arguments: [String], environment: [String: String], input: String? = nil) async throws -> Run {
        try await offThePool { try wardBlocking(arguments, environment: environment, input: input) }
    }

    private static func wardBlocking(_ arguments: [String], environment: [String: String], input: String?) throws -> Run {
        let process = TestProcess()
        process.executableURL = try executable()
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = stdin
        // A command that exits without reading its input must not kill the test with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        try process.runAlone()
        if let input { try? stdin.fileHandleForWriting.write(contentsOf: Data((input + "\n").utf8)) }
        try? stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func environment(_ site: TestSite) -> [String: String] {
        var environment = ["WARD_DATA_DIR": site.directory, "WARD_AUTH_BCRYPT_COST": "4"]
        if let url = site.databaseURL { environment["DATABASE_URL"] = url }
        // Behind the run's PgBouncer (transaction mode, 1.18), as every node of the site.
        if site.databaseURL != nil, TestPostgresServer.throughPgBouncer { environment["WARD_DB_PREPARED_STATEMENTS"] = "false" }
        return environment
    }

    @Test("check --deploy lists every production check with PASS or FAIL and exits 1 while any fails", arguments: TestBackend.allCases)
    func deployCheck(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            var environment = Self.environment(site)
            let development = try await Self.ward(["check", "--deploy"], environment: environment)
            #expect(development.status == 1)
            #expect(development.output.contains("FAIL  environment: WARD_ENV=development"))
            #expect(development.output.contains("FAIL  allowed hosts"))
            #expect(development.output.contains("FAIL  backups"))
            #expect(development.output.contains("PASS  rate limits"))

            environment["WARD_ENV"] = "production"
            environment["WARD_SECRET_KEY"] = "a-production-secret-of-forty-bytes-0123456"
            environment["WARD_AUTH_BCRYPT_COST"] = "12"
            environment["WARD_TRUST_PROXY"] = "true"
            environment["WARD_HTTPS_REDIRECT"] = "true"
            environment["WARD_ALLOWED_HOSTS"] = "ward.example.org,*.ward.example.org"
            environment["WARD_CORS_ORIGINS"] = "http://portal.example.org"
            environment["WARD_RATE_LIMITS"] = "session=off"
            let hardened = try await Self.ward(["check", "--deploy"], environment: environment)
            #expect(hardened.status == 1)
            for line in ["PASS  settings", "PASS  environment", "PASS  secret key", "PASS  HTTPS", "PASS  allowed hosts: ward.example.org, *.ward.example.org",
                         "FAIL  rate limits: policies turned off: session", "FAIL  CORS: origins over plain HTTP", "FAIL  backups"] {
                #expect(hardened.output.contains(line), "\(line)")
            }
            if backend == .postgres {
                // The suite's PostgreSQL is reached in the clear as its superuser.
                #expect(hardened.output.contains("FAIL  database TLS: sslmode=disable"))
                #expect(hardened.output.contains("FAIL  database role: the serving role is a superuser"))
            } else {
                #expect(hardened.output.contains("PASS  database: embedded SQLite"))
            }
            #expect(!hardened.output.contains("a-production-secret"))
        }
    }

    @Test("migrate --check fails until migrate has run; tenants are created and listed", arguments: TestBackend.allCases)
    func migrateAndTenants(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let environment = Self.environment(site)
            #expect(try await Self.ward(["migrate", "--check"], environment: environment).status == 1)
            let plan = try await Self.ward(["migrate", "--plan"], environment: environment)
            #expect(plan.output.contains("pending  platform  1 create_shards"))

            let applied = try await Self.ward(["migrate"], environment: environment)
            #expect(applied.status == 0)
            #expect(applied.output.contains("applied  platform  2 create_tenants"))
            #expect(try await Self.ward(["migrate", "--check"], environment: environment).status == 0)

            #expect(try await Self.ward(["tenant", "create", "north-clinic", "--name", "North Clinic"], environment: environment).status == 0)
            #expect(try await Self.ward(["tenant", "create", "North_Clinic", "--name", "Bad"], environment: environment).status != 0)
            let list = try await Self.ward(["tenant", "list"], environment: environment)
            #expect(list.output.contains("north-clinic\tactive"))
            #expect(try await Self.ward(["migrate", "--check"], environment: environment).status == 0)

            // A tenant migrated by a newer build: --check says so apart (4), naming both builds,
            // and the node refuses to start on it.
            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations) { storage in
                let tenant = try #require(try await storage.tenants.find(slug: "north-clinic"))
                let target = try await storage.tenants.migrationTarget(for: tenant)
                try await target.database.transaction(searchPath: target.schema) { database in
                    try await database.raw("""
                        INSERT INTO ward_migrations (version, name, checksum, applied_at, ward_version)
                        VALUES (99001, 'add_future_things', 'x', '2027-01-01T00:00:00Z', '9.2.0')
                        """).run()
                }
            }
            let newer = try await Self.ward(["migrate", "--check"], environment: environment)
            #expect(newer.status == 4)
            #expect(newer.output.contains("99001 add_future_things applied by Ward 9.2.0; this is Ward \(WardApplication.version)"))
            #expect(try await Self.ward(["migrate"], environment: environment).status != 0)
        }
    }

    @Test("shard add registers a cluster, tenant create --shard places on it, tenant move moves there; SQLite has no shards")
    func shardsAndMoves() async throws {
        try await withTestSite(.sqlite) { site in
            let added = try await Self.ward(["shard", "add", "east", "--url", "postgres://ward@127.0.0.1/ward"], environment: Self.environment(site))
            #expect(added.status != 0)
        }
        guard let second = try TestPostgresServer.shardFromEnvironment() else { return }
        try await withTestSite(.postgres) { site in
            let environment = Self.environment(site), name = site.databaseName!
            try await second.createDatabase(name)
            do {
                try await Self.shardCommands(environment, shardURL: second.url(database: name))
            } catch {
                try? await second.dropDatabase(name)
                throw error
            }
            try await second.dropDatabase(name)
        }
    }

    static func shardCommands(_ environment: [String: String], shardURL: String) async throws {
        do {
            #expect(try await Self.ward(["migrate"], environment: environment).status == 0)
            #expect(try await Self.ward(["shard", "add", "East", "--url", shardURL], environment: environment).status != 0)
            #expect(try await Self.ward(["shard", "add", "east", "--url", "postgres://postgres@127.0.0.1:1/none"], environment: environment).status != 0)
            let added = try await Self.ward(["shard", "add", "east", "--url", shardURL, "--pool-size", "3"], environment: environment)
            #expect(added.status == 0)
            #expect(try await Self.ward(["shard", "add", "east", "--url", shardURL], environment: environment).status != 0)
            #expect(try await Self.ward(["shard", "close", "east"], environment: environment).status == 0)
            #expect(try await Self.ward(["tenant", "create", "north", "--name", "North"], environment: environment).status == 0)
            #expect(try await Self.ward(["tenant", "create", "south", "--name", "South", "--shard", "east"], environment: environment).status == 0)
            #expect(try await Self.ward(["tenant", "create", "west", "--name", "West", "--shard", "nowhere"], environment: environment).status != 0)
            let list = try await Self.ward(["shard", "list"], environment: environment).output
            #expect(list.contains("east\t1 tenants\tclosed\tpool 3"))
            #expect(list.contains("primary\t1 tenants\topen"))
            let moved = try await Self.ward(["tenant", "move", "north", "--to", "east", "--keep-source", "0"], environment: environment)
            #expect(moved.status == 0)
            #expect(moved.output.contains("tenant north moved from primary to east"))
            #expect(try await Self.ward(["tenant", "list"], environment: environment).output.contains("north\tactive\teast"))
            #expect(try await Self.ward(["tenant", "move", "north", "--to", "east"], environment: environment).status != 0)
            #expect(try await Self.ward(["audit", "verify", "--tenant", "north"], environment: environment).status == 0)
        }
    }

    @Test("keys status names the master key wrapping each tenant's data key; after a rotation keys rotate moves them all to the new one")
    func keyRotation() async throws {
        try await withTestSite(.sqlite) { site in
            var environment = Self.environment(site)
            #expect(try await Self.ward(["seed", "tenants", "--count", "2", "--patients", "3", "--with-users", "0"], environment: environment).status == 0)
            let current = try await Self.ward(["keys", "status"], environment: environment)
            #expect(current.status == 0 && current.output.contains("2 of 2 under the current master key"))
            // The development key the node generated becomes the previous one.
            let old = try String(contentsOfFile: site.directory + "/secret.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            environment["WARD_SECRET_KEY"] = "rotated-secret-key-0123456789-qrstuvwxyz-42"
            environment["WARD_SECRET_PREVIOUS_KEYS"] = old
            let stale = try await Self.ward(["keys", "status"], environment: environment)
            #expect(stale.status == 1 && stale.output.contains("bench-0001: previous master key 1"))
            let rotated = try await Self.ward(["keys", "rotate"], environment: environment)
            #expect(rotated.status == 0 && rotated.output.contains("rewrapped the data keys of 2 tenants"))
            environment["WARD_SECRET_PREVIOUS_KEYS"] = nil
            let after = try await Self.ward(["keys", "status"], environment: environment)
            #expect(after.status == 0 && after.output.contains("2 of 2 under the current master key"))
        }
    }

    @Test("every shipped migration that drops, renames or tightens what the previous release uses says it contracts")
    func expandThenContract() {
        for migration in WardApplication.platformMigrations + WardApplication.tenantMigrations {
            let found = migration.contractingStatements()
            #expect(found.isEmpty || migration.contracts != nil, "migration \(migration.version) \(migration.name) contracts the schema (\(found.first ?? "")) without saying why")
        }
    }

    @Test("config masks secrets and reports what production would refuse")
    func config() async throws {
        try await withTestSite(.sqlite) { site in
            var environment = Self.environment(site)
            environment["WARD_SECRET_KEY"] = "a-secret-that-must-never-be-printed-0123"
            environment["DATABASE_URL"] = "postgres://ward:hunter2hunter2@db.internal:5432/ward"
            let run = try await Self.ward(["config"], environment: environment)
            #expect(run.status == 0)
            #expect(!run.output.contains("a-secret-that"))
            #expect(!run.output.contains("hunter2"))
            #expect(run.output.contains("postgres://ward:****@db.internal:5432/ward"))
            #expect(run.output.contains("WARD_TRUST_PROXY is off"))

            environment["WARD_ENV"] = "production"
            let refused = try await Self.ward(["migrate", "--check"], environment: environment)
            #expect(refused.status != 0)
        }
    }

    @Test("create-admin reads the password from standard input and audit verify names a tampered link", arguments: TestBackend.allCases)
    func adminAndAuditVerify(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let environment = Self.environment(site)
            #expect(try await Self.ward(["tenant", "create", "acme", "--name", "Acme"], environment: environment).status == 0)
            let weak = try await Self.ward(["user", "create-admin", "--tenant", "acme", "--email", "a@acme.test", "--name", "Ada Admin", "--password-stdin"],
                                     environment: environment, input: "short")
            #expect(weak.status != 0)
            let created = try await Self.ward(["user", "create-admin", "--tenant", "acme", "--email", "a@acme.test", "--name", "Ada Admin", "--password-stdin"],
                                        environment: environment, input: "correct-stable-fossil-lamp")
            #expect(created.status == 0)
            #expect(try await Self.ward(["user", "create-admin", "--tenant", "acme", "--email", "b@acme.test", "--password", "x"], environment: environment).status != 0)

            let clean = try await Self.ward(["audit", "verify"], environment: environment)
            #expect(clean.status == 0)
            #expect(clean.output.range(of: #"acme: ok, \d+ events"#, options: .regularExpression) != nil)

            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations) { storage in
                let scope = try await storage.tenants.activeScope(slug: "acme")
                let drop = backend == .sqlite ? "DROP TRIGGER audit_events_no_update" : "DROP TRIGGER audit_events_append_only ON audit_events"
                try await scope.transaction { database in
                    try await database.raw(SQLQueryString(drop)).run()
                    try await database.raw("UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 1").run()
                }
            }
            let tampered = try await Self.ward(["audit", "verify", "--tenant", "acme"], environment: environment)
            #expect(tampered.status == 1)
            #expect(tampered.output.contains("BROKEN at event 1"))
        }
    }

    @Test("audit verify names a trail whose newest events were cut off after the control plane witnessed them", arguments: TestBackend.allCases)
    func auditVerifyTruncation(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let environment = Self.environment(site)
            #expect(try await Self.ward(["tenant", "create", "acme", "--name", "Acme"], environment: environment).status == 0)
            #expect(try await Self.ward(["user", "create-admin", "--tenant", "acme", "--email", "a@acme.test", "--name", "Ada Admin", "--password-stdin"],
                                  environment: environment, input: "correct-stable-fossil-lamp").status == 0)
            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations) { storage in
                let scope = try await storage.tenants.activeScope(slug: "acme")
                let head = try #require(try await AuditWitness(storage: storage).record(scope))
                // Someone with the tenant's database but not the control plane removes the newest event.
                let drop = backend == .sqlite ? "DROP TRIGGER audit_events_no_delete" : "ALTER TABLE audit_events DISABLE TRIGGER USER"
                try await scope.transaction { database in
                    try await database.raw(SQLQueryString(drop)).run()
                    try await database.raw("DELETE FROM audit_events WHERE seq = \(bind: head.seq)").run()
                }
                #expect(try await AuditStore.verify(scope).firstBreak == nil, "without the witness the shortened chain verifies")
            }
            let cut = try await Self.ward(["audit", "verify", "--tenant", "acme"], environment: environment)
            #expect(cut.status == 1)
            #expect(cut.output.contains("cut short"))
        }
    }

    @Test("suspending and resuming a tenant is recorded in its trail; its API answers 403 meanwhile", arguments: TestBackend.allCases)
    func suspendAndResume(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let environment = Self.environment(site)
            #expect(try await Self.ward(["tenant", "create", "quiet-clinic", "--name", "Quiet Clinic"], environment: environment).status == 0)
            #expect(try await Self.ward(["tenant", "suspend", "quiet-clinic"], environment: environment).output.contains("suspended"))
            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations) { storage in
                await #expect(throws: TenantError.suspended("quiet-clinic")) { _ = try await storage.tenants.activeScope(slug: "quiet-clinic") }
            }
            #expect(try await Self.ward(["tenant", "resume", "quiet-clinic"], environment: environment).status == 0)
            #expect(try await Self.ward(["tenant", "suspend", "no-such-clinic"], environment: environment).status != 0)
            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations) { storage in
                let scope = try await storage.tenants.activeScope(slug: "quiet-clinic")
                let actions = try await AuditStore.events(in: scope, filter: .init(), before: nil, limit: 100, ascending: true).map(\.action)
                #expect(actions.filter { $0.hasPrefix("tenant_") } == ["tenant_created", "tenant_suspended", "tenant_resumed"])
            }
        }
    }

    @Test("tenant create prints each provisioning step; jobs list, show, retry and cancel operate the queue", arguments: TestBackend.allCases)
    func provisioningAndJobs(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let environment = Self.environment(site)

            let created = try await Self.ward(["tenant", "create", "harbour", "--name", "Harbour Clinic", "--timezone", "Europe/Lisbon",
                                         "--admin-email", "head@harbour.test"], environment: environment)

            #expect(created.status == 0)
            for step in ["reserve_slug", "place_on_shard", "create_database", "migrate", "seed", "create_admin", "queue_welcome_email", "activate"] {
                #expect(created.output.contains("  \(step)"), "step \(step) printed")
            }
            #expect(created.output.contains("tenant harbour is active"))
            #expect(!created.output.lowercased().contains("token"))
            let list = try await Self.ward(["jobs", "list", "--kind", "tenant.provision"], environment: environment)
            let id = try #require(list.output.split(separator: "\t").first.map(String.init))
            #expect(list.output.contains("\tsucceeded\t1/4\tharbour\t"))
            let shown = try await Self.ward(["jobs", "show", id], environment: environment)
            #expect(shown.output.contains("state            succeeded"))
            #expect(try await Self.ward(["jobs", "cancel", id], environment: environment).status != 0)
            #expect(try await Self.ward(["jobs", "retry", "no-such-job"], environment: environment).status != 0)
            #expect(try await Self.ward(["jobs", "list", "--state", "sleeping"], environment: environment).status != 0)
            #expect(try await Self.ward(["tenant", "create", "harbour", "--name", "Again"], environment: environment).status != 0)
        }
    }

    @Test("serve --role worker carries out provisioning queued elsewhere and stops cleanly on SIGTERM", arguments: TestBackend.allCases)
    func workerRole(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            var environment = Self.environment(site)
            environment["WARD_JOBS_POLL_INTERVAL"] = "0.1"
            environment["WARD_SECRET_KEY"] = "test-secret-key-0123456789-abcdefghijklmnop"
            #expect(try await Self.ward(["migrate"], environment: environment).status == 0)
            let settings = try site.settings()
            try await site.withStorage(platformMigrations: WardApplication.platformMigrations, tenantMigrations: WardApplication.tenantMigrations,
                                       settings: settings) { storage in
                let services = try await TestServices.make(settings: settings, storage: storage)
                _ = try await services.lifecycle.requestProvisioning(.init(slug: "inland", name: "Inland", adminEmail: "a@inland.test", adminName: "A"))
            }

            let worker = try Self.start(["serve", "--role", "worker"], environment: environment)
            var active = false
            for _ in 0..<300 where !active {
                try await Task.sleep(for: .milliseconds(100))
                active = try await site.withStorage(platformMigrations: WardApplication.platformMigrations) { storage in
                    try await storage.tenants.fetch(slug: "inland")?.status == .active
                }
            }
            worker.terminate()
            try await offThePool { worker.waitUntilExit() }

            #expect(active)
            #expect(worker.terminationStatus == 0)
        }
    }

    @Test("email test sends one message through the configured relay, and exits 1 with nothing delivered when the relay refuses it")
    func emailTest() async throws {
        let sink = try await MailSink.shared()
        try await withTestSite(.sqlite) { site in
            var environment = Self.environment(site)
            environment["WARD_SMTP_URL"] = sink.url
            environment["WARD_SMTP_CA_FILE"] = sink.certificate
            environment["WARD_EMAIL_FROM"] = "Ward <ward@clinic.example>"
            let recipient = "ops-\(UUID().uuidString.prefix(8))@clinic.example"
            let sent = try await Self.ward(["email", "test", "--to", recipient], environment: environment)
            #expect(sent.status == 0)
            #expect(sent.output.contains("delivered: <"))
            let mail = try await ReceivedMail.read(try #require(sink.messages(to: recipient).first))
            #expect(mail.headers["Subject"] == "Ward test message")
            #expect(mail.text(of: "text/plain")?.contains("SMTP smtp://ward@localhost:\(sink.port) (starttls)") == true)

            let refused = "reject-\(UUID().uuidString.prefix(8))@clinic.example"
            #expect(try await Self.ward(["email", "test", "--to", refused], environment: environment).status == 1)
            #expect(sink.messages(to: refused).isEmpty)
        }
    }

    @Test("monitor prints a line per check of a serving node and exits 1 after three failed checks of one that is gone")
    func monitor() async throws {
        try await withTestSite(.sqlite) { site in
            let (process, _, port) = try await Self.serve(site)
            // No disk threshold here: the machine's free space is not the node's doing.
            let watched = try await Self.ward(["monitor", "--url", "http://127.0.0.1:\(port)", "--interval", "0.2", "--count", "3", "--disk-free", "0"],
                                              environment: Self.environment(site))
            process.terminate()
            try await offThePool { process.waitUntilExit() }
            #expect(watched.status == 0)
            #expect(watched.output.split(separator: "\n").filter { $0.contains(" ok answered=") }.count == 3, "\(watched.output)")
            let gone = try await Self.ward(["monitor", "--url", "http://127.0.0.1:\(port)", "--interval", "0.1", "--timeout", "0.5"],
                                          environment: Self.environment(site))
            #expect(gone.status == 1)
            #expect(gone.output.contains("FAIL unreachable"))
            #expect(gone.output.contains("3 consecutive failed checks"))
        }
    }

    @Test("an idle serve exits at once on SIGTERM, well within its shutdown timeout, logging no error", arguments: TestBackend.allCases)
    func idleShutdown(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let (process, log, _) = try await Self.serve(site)
            // Idle: the scheduler and the job workers are between polls.
            try await Task.sleep(for: .milliseconds(500))
            let signalled = ContinuousClock.now
            process.terminate()
            while process.isRunning && ContinuousClock.now - signalled < .seconds(20) { try await Task.sleep(for: .milliseconds(25)) }
            let took = ContinuousClock.now - signalled
            #expect(!process.isRunning)
            // About 25 ms measured alone, well within 2 s; the parallel suite on two cores has
            // stretched it past 4 s (a job in flight finishing) and, in a clean-clone CI run
            // with the suite at its busiest, to 9.7 s. The bound is 15 s: it still tells an exit
            // on SIGTERM from one that waits out the 25 s shutdown timeout, which bounds work in
            // flight and is not a wait.
            #expect(took < .seconds(15), "exited \(took) after SIGTERM")
            if process.isRunning { process.interrupt(); try await offThePool { process.waitUntilExit() } }
            #expect(process.terminationStatus == 0)
            let errors = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains(#""level":"error""#) }
            #expect(errors.isEmpty, "\(errors)")
        }
    }

    @Test("a serve under load answers every request it took on SIGTERM, none failed, then exits cleanly", arguments: TestBackend.allCases)
    func shutdownUnderLoad(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            let (process, log, port) = try await Self.serve(site)

            // Sixteen clients read readiness (each read queries the databases) back to back on
            // threads of their own (not the pool async tasks run on) until the server refuses them.
            let answers = Mutex<[(started: ContinuousClock.Instant, ended: ContinuousClock.Instant, status: Int, body: String)]>([])
            let running = Atomic(16)
            for _ in 0..<16 {
                Thread {
                    defer { running.subtract(1, ordering: .relaxed) }
                    while true {
                        let started = ContinuousClock.now
                        guard let answer = try? RawHTTP.getBlocking(port: port, path: "/health/ready", host: "127.0.0.1") else { return }
                        answers.withLock { $0.append((started, .now, answer.status, answer.body)) }
                        if answer.status == 0 { return }
                    }
                }.start()
            }
            // Under load before the signal: at least 50 answers (a second's worth alone; the
            // parallel suite through PgBouncer has slowed it to half that).
            for _ in 0..<600 where answers.withLock({ $0.count }) < 50 { try await Task.sleep(for: .milliseconds(25)) }
            let signalled = ContinuousClock.now
            process.terminate()
            for _ in 0..<400 where running.load(ordering: .relaxed) > 0 { try await Task.sleep(for: .milliseconds(25)) }
            while process.isRunning && ContinuousClock.now - signalled < .seconds(20) { try await Task.sleep(for: .milliseconds(25)) }
            let took = ContinuousClock.now - signalled

            let all = answers.withLock { $0 }
            // A connection the kernel queued but the server never took is closed without a byte
            // (status 0): refused at the door. Every answer the server began is whole and a 200.
            let answered = all.filter { $0.status != 0 }
            #expect(answered.count > 50)
            #expect(answered.allSatisfy { $0.status == 200 && $0.body.contains(#""status":"ok""#) },
                    "\(answered.filter { $0.status != 200 }.prefix(3).map { "\($0.status) \($0.body)" })")
            #expect(answered.contains { $0.started < signalled && $0.ended > signalled }, "requests in flight at SIGTERM were answered")
            #expect(!process.isRunning)
            // Measured alone: 0.08 to 0.16 s. A CI run saw 8.96 s, with the suite saturating two
            // cores; the bound is the idle test's, which tells an exit on SIGTERM from one that
            // waits out the 25 s shutdown timeout. The server's last lines besides its access
            // log say which step took the time.
            let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            let steps = lines.filter { !$0.contains(#""logger":"ward.access""#) }.suffix(12)
            #expect(took < .seconds(15), "exited \(took) after SIGTERM; its last lines: \(steps.joined(separator: "\n"))")
            if process.isRunning { process.interrupt(); try await offThePool { process.waitUntilExit() } }
            #expect(process.terminationStatus == 0)
            let errors = lines.filter { $0.contains(#""level":"error""#) }
            #expect(errors.isEmpty, "\(errors)")
        }
    }

    @Test("commands started together on one new SQLite data directory wait for each other's locks instead of failing")
    func simultaneousCommands() async throws {
        // Each round is a fresh directory: the file being created and switched to WAL is when
        // another process finds it locked (before, about one command in three failed).
        for _ in 0..<3 {
            try await withTestSite(.sqlite) { site in
                let environment = Self.environment(site)
                let commands = [["migrate"], ["jobs", "list"], ["tenant", "list"], ["migrate", "--check"], ["jobs", "list"], ["migrate"]]
                let runs = try await withThrowingTaskGroup(of: (String, Run).self) { group in
                    for command in commands {
                        group.addTask { (command.joined(separator: " "), try await Self.ward(command, environment: environment)) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // `migrate --check` may find the migrations not yet applied (exit 1); never locked.
                for (command, run) in runs where command != "migrate --check" {
                    #expect(run.status == 0, "\(command): \(run.output)")
                }
            }
        }
    }

    /// Starts `ward serve` on `site` (a 25 s shutdown timeout, a random loopback port) and
    /// waits until it serves; returns the process, its log and its port.
    static func serve(_ site: TestSite) async throws -> (process: TestProcess, log: URL, port: Int) {
        var environment = Self.environment(site)
        environment["WARD_SECRET_KEY"] = "test-secret-key-0123456789-abcdefghijklmnop"
        let port = Int.random(in: 20_000..<40_000)
        environment["WARD_HTTP_PORT"] = String(port)
        environment["WARD_SHUTDOWN_TIMEOUT"] = "25"
        let log = URL(fileURLWithPath: site.directory).appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = TestProcess()
        process.executableURL = try Self.executable()
        process.arguments = ["serve"]
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.runAlone()
        var serving = false
        // Up to 30 s: the parallel suite on two cores has kept a start (migrations through a
        // PgBouncer) past 10.
        for _ in 0..<600 where !serving && process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
            serving = (try? String(contentsOf: log, encoding: .utf8))?.contains("Server started") ?? false
        }
        #expect(serving)
        return (process, log, port)
    }

    /// The built `ward` beside the test bundle.
    static func executable() throws -> URL {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("ward") }
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return executable
    }

    /// Starts the built `ward` in the background, its output discarded.
    static func start(_ arguments: [String], environment: [String: String]) throws -> TestProcess {
        let process = TestProcess()
        process.executableURL = try executable()
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runAlone()
        return process
    }
}
