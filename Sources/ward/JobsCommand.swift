import ArgumentParser
import Foundation
import WardJobs
import WardServer

/// `ward jobs list|show|retry|cancel`: inspect and operate the durable job queue.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Inspect and operate the job queue.", subcommands: [List.self, Show.self, Retry.self, Cancel.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
        @Option(help: "Only jobs in this state: \(Job.State.allCases.map(\.rawValue).joined(separator: ", ")).") var state: String?
        @Option(help: "Only jobs of this kind.") var kind: String?
        @Option(help: "Only jobs of this tenant.") var tenant: String?
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            var wanted: Job.State?
            if let state {
                guard let value = Job.State(rawValue: state) else { throw ValidationError("unknown state '\(state)'") }
                wanted = value
            }
            try await NodeBootstrap.withServices(label: "ward.jobs") { services in
                let jobs = try await services.queue.list(state: wanted, kind: kind, tenant: tenant, limit: max(1, min(limit, 1000)))
                if jobs.isEmpty { print("no jobs"); return }
                for job in jobs {
                    print("\(job.id)\t\(job.kind)\t\(job.state.rawValue)\t\(job.attempts)/\(job.maxAttempts)\t\(job.tenant ?? "-")\t\(job.runAt)")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job in full.")
        @Argument var id: String

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.jobs") { services in
                guard let job = try await services.queue.find(id) else { throw JobError.notFound(id) }
                JobsCommand.show(job)
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead, failed, cancelled or finished job again with fresh attempts.")
        @Argument var id: String

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.jobs") { services in
                JobsCommand.show(try await services.queue.retry(id))
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job that is waiting to run.")
        @Argument var id: String

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.jobs") { services in
                JobsCommand.show(try await services.queue.cancel(id))
            }
        }
    }

    static func show(_ job: Job) {
        let fields: [(String, String?)] = [
            ("id", job.id), ("kind", job.kind), ("state", job.state.rawValue), ("tenant", job.tenant),
            ("attempts", "\(job.attempts) of \(job.maxAttempts)"), ("run_at", job.runAt), ("lease_holder", job.leaseHolder),
            ("lease_expires_at", job.leaseExpiresAt), ("last_error", job.lastError), ("unique_key", job.uniqueKey),
            ("created_at", job.createdAt), ("updated_at", job.updatedAt), ("started_at", job.startedAt), ("finished_at", job.finishedAt),
            ("payload", job.payload),
        ]
        for (name, value) in fields { Swift.print("\(name.padding(toLength: 17, withPad: " ", startingAt: 0))\(value ?? "-")") }
    }
}
