import Foundation
import HTTPTypes
package import Hummingbird
import WardAudit
import WardCore
package import WardHTTP
import WardJobs
package import WardStorage
package import OpenAPIKit

/// `/platform/v1/tenants`: control-plane administrators provision, inspect, suspend, resume
/// and delete tenants. Provisioning answers 202 at once; a job does the work.
package struct TenantsController: Sendable {
    let lifecycle: TenantLifecycle

    package init(lifecycle: TenantLifecycle) {
        self.lifecycle = lifecycle
    }

    package static let operations: [APIOperation] = [
        APIOperation("createTenant", .post, "/platform/v1/tenants", summary: "Provision a tenant (asynchronously); a slug taken or reserved answers 409, a shard not recorded 404", tag: "platform", access: .platformAdmin,
                     success: (202, "application/json", Accepted.self), problems: [400, 401, 404, 409, 422], request: ProvisioningBody.self),
        APIOperation("listTenants", .get, "/platform/v1/tenants", summary: "Page through tenants with their states", tag: "platform", access: .platformAdmin,
                     success: (200, "application/json", ItemPage<Tenant>.self), problems: [400, 401])
            .query(QueryParameter("status", .choice(Tenant.Status.allCases.map(\.rawValue)), "Only tenants in this state"),
                   .limit(default: 50, maximum: 500), .cursor(.slug)),
        APIOperation("readTenant", .get, "/platform/v1/tenants/{slug}", summary: "A tenant with its provisioning steps and job; a deleted tenant stays readable with its status (deleting until purged, then deleted), as its slug stays reserved", tag: "platform", access: .platformAdmin,
                     success: (200, "application/json", Detail.self), problems: [401, 404]),
        APIOperation("retryTenant", .post, "/platform/v1/tenants/{slug}/retry", summary: "Provision a failed tenant again", tag: "platform", access: .platformAdmin,
                     success: (202, "application/json", Accepted.self), problems: [401, 404, 409]),
        APIOperation("suspendTenant", .post, "/platform/v1/tenants/{slug}/suspend", summary: "Suspend a tenant (its API answers 403; data untouched)", tag: "platform", access: .platformAdmin,
                     success: (200, "application/json", Tenant.self), problems: [401, 404, 409]),
        APIOperation("resumeTenant", .post, "/platform/v1/tenants/{slug}/resume", summary: "Resume a suspended tenant, or restore a deleted one before its purge",
                     tag: "platform", access: .platformAdmin, success: (200, "application/json", Tenant.self), problems: [401, 404, 409]),
        APIOperation("deleteTenant", .delete, "/platform/v1/tenants/{slug}", summary: "Delete a tenant: refused at once, purged after the grace period (resume restores it until then); it stays listed with its status", tag: "platform", access: .platformAdmin,
                     success: (202, "application/json", Tenant.self), problems: [401, 404, 409]),
    ]

    struct ProvisioningBody: APIRequestBody {
        let slug: String
        let name: String
        let adminEmail: String
        let adminName: String?
        let timezone: String?
        let shard: String?
        enum CodingKeys: String, CodingKey { case slug, name, adminEmail = "admin_email", adminName = "admin_name", timezone, shard }
        static var schemaName: String { "ProvisioningRequest" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["slug": ParameterFormat.slug.schema, "name": TenantLifecycle.name.schema, "admin_email": TextRules.emailSchema,
             "admin_name": TenantLifecycle.name.schema,
             "timezone": .string(description: "An IANA time zone name; UTC when absent", allowedValues: TenantLifecycle.timeZones.map { AnyCodable($0) }),
             "shard": .string(description: "The shard (`ward shard list`) to place the tenant on; the one with the fewest tenants of those taking new ones when absent",
                             maxLength: 40, pattern: "^[a-z][a-z0-9_-]*$")]
        }
    }

    struct Accepted: Codable, APIResponseBody {
        let tenant: Tenant
        let job: JobView
        static var schemaName: String { "ProvisioningAccepted" }
    }

    /// A job as the platform API shows it: no payload, no lease holder.
    struct JobView: Codable, APIResponseBody {
        static var schemaName: String { "ProvisioningJob" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["state": .enumeration(Job.State.allCases.map(\.rawValue)), "run_at": .dateTime, "created_at": .dateTime, "updated_at": .dateTime,
             "started_at": .dateTime, "finished_at": .dateTime]
        }
        let id, kind, state: String
        let attempts, maxAttempts: Int
        let runAt: String
        let lastError: String?
        let createdAt, updatedAt: String
        let startedAt, finishedAt: String?
        enum CodingKeys: String, CodingKey {
            case id, kind, state, attempts, maxAttempts = "max_attempts", runAt = "run_at", lastError = "last_error"
            case createdAt = "created_at", updatedAt = "updated_at", startedAt = "started_at", finishedAt = "finished_at"
        }
        init(_ job: Job) {
            id = job.id; kind = job.kind; state = job.state.rawValue; attempts = job.attempts; maxAttempts = job.maxAttempts
            runAt = job.runAt; lastError = job.lastError; createdAt = job.createdAt; updatedAt = job.updatedAt
            startedAt = job.startedAt; finishedAt = job.finishedAt
        }
    }

    struct StepView: Codable, APIResponseBody {
        static var schemaName: String { "ProvisioningStepRecord" }
        static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
            ["step": .enumeration(ProvisioningStep.allCases.map(\.rawValue)), "started_at": .dateTime, "finished_at": .dateTime,
             "outcome": .enumeration(["succeeded", "failed", "rolled_back", "skipped"])]
        }
        let step: String
        let attempt: Int
        let startedAt, finishedAt: String
        let durationMs: Int
        let outcome: String
        let error, jobID: String?
        enum CodingKeys: String, CodingKey {
            case step, attempt, startedAt = "started_at", finishedAt = "finished_at", durationMs = "duration_ms", outcome, error, jobID = "job_id"
        }
    }

    /// A tenant with its provisioning: `job` is written as null when there is none.
    struct Detail: APIResponseBody {
        let tenant: Tenant
        let steps: [StepView]
        let job: JobView?
        static var schemaName: String { "TenantDetail" }
        static func schema(_ builder: inout SchemaBuilder) -> JSONSchema {
            .object(properties: ["tenant": builder.reference(to: Tenant.self), "steps": .array(items: builder.reference(to: StepView.self)),
                                 "job": .one(of: [builder.reference(to: JobView.self), .null()])])
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(steps, forKey: .steps)
            try container.encode(job, forKey: .job)
        }
        enum CodingKeys: String, CodingKey { case tenant, steps, job }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        let lifecycle = self.lifecycle
        routes.on("createTenant") { request, context -> Response in
            let body = try await request.decode(as: ProvisioningBody.self, context: context)
            let accepted = try await lifecycle.requestProvisioning(.init(
                slug: body.slug, name: body.name, timeZone: body.timezone ?? "UTC", adminEmail: body.adminEmail, adminName: body.adminName ?? "Administrator",
                shard: body.shard
            ))
            var response = try JSONResponse.make(Accepted(tenant: accepted.tenant, job: JobView(accepted.job)), status: .accepted)
            response.headers[.location] = "/platform/v1/tenants/\(accepted.tenant.slug)"
            return response
        }
        routes.on("listTenants") { request, _ -> Response in
            let query = request.uri.queryParameters
            let limit = try request.pageLimit(default: 50, maximum: 500)
            var status: Tenant.Status?
            if let text = query.get("status") {
                guard let value = Tenant.Status(rawValue: text) else {
                    throw InvalidQuery(field: "status", message: "must be one of \(Tenant.Status.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = value
            }
            let cursor = query.get("cursor")
            if let cursor, (try? TenantSlug(cursor)) == nil { throw InvalidQuery(field: "cursor", message: "is not a cursor from this API") }
            let page = try await lifecycle.storage.tenants.page(after: cursor, limit: limit, status: status)
            return try JSONResponse.make(ItemPage(page, nextCursor: page.count == limit ? page.last?.slug : nil))
        }
        routes.on("readTenant") { _, context -> Response in
            let described = try await lifecycle.describe(try context.parameters.require("slug"))
            return try JSONResponse.make(Detail(
                tenant: described.tenant,
                steps: described.steps.map {
                    StepView(step: $0.step, attempt: $0.attempt, startedAt: $0.startedAt, finishedAt: $0.finishedAt, durationMs: $0.durationMs,
                             outcome: $0.outcome, error: $0.error, jobID: $0.jobID)
                },
                job: described.job.map(JobView.init)
            ))
        }
        routes.on("retryTenant") { _, context -> Response in
            let accepted = try await lifecycle.retry(try context.parameters.require("slug"))
            return try JSONResponse.make(Accepted(tenant: accepted.tenant, job: JobView(accepted.job)), status: .accepted)
        }
        routes.on("suspendTenant") { request, context -> Response in
            try JSONResponse.make(try await lifecycle.suspend(try context.parameters.require("slug"), by: AuditActor(request, context)))
        }
        routes.on("resumeTenant") { request, context -> Response in
            try JSONResponse.make(try await lifecycle.resume(try context.parameters.require("slug"), by: AuditActor(request, context)))
        }
        routes.on("deleteTenant") { request, context -> Response in
            try JSONResponse.make(try await lifecycle.delete(try context.parameters.require("slug"), by: AuditActor(request, context)), status: .accepted)
        }
    }
}

/// A tenant as the platform API shows it.
extension Tenant: APIResponseBody {
    package static var schemaName: String { "PlatformTenant" }
    package static func fieldRules(_ context: SchemaContext) -> [String: JSONSchema] {
        ["created_at": .dateTime, "updated_at": .dateTime, "deleted_at": .dateTime, "purge_after": .dateTime]
    }
}

extension Tenant.Status: StringEnumeration {}
