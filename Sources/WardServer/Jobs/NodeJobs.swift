import Logging
package import WardJobs

/// The background work a node does: every module's job kinds and cron schedules, and the
/// worker and scheduler services that run them.
package enum NodeJobs {
    /// Every job kind of the node's modules.
    package static func handlers(_ services: WardServices) -> [JobHandler] {
        services.modules.flatMap { $0.jobs() }
    }

    /// Every module's schedules.
    package static func schedules(_ services: WardServices) throws -> [Schedule] {
        try services.modules.flatMap { try $0.schedules() }
    }

    /// A worker running every kind of this build.
    package static func worker(_ services: WardServices, id: String? = nil) -> JobWorker {
        JobWorker(queue: services.queue, handlers: handlers(services), settings: services.settings.jobs, metrics: services.jobMetrics,
                  logger: Logger(label: "ward.jobs"), id: id)
    }

    /// A scheduler firing every module's schedules.
    package static func scheduler(_ services: WardServices) throws -> Scheduler {
        Scheduler(queue: services.queue, tenants: services.storage.tenants, schedules: try schedules(services),
                  tick: services.settings.jobs.schedulerTick, logger: Logger(label: "ward.scheduler"))
    }
}
