import Foundation
import WardClinical
package import WardDocuments
package import WardHTTP
package import WardJobs
package import WardKit
import WardMail
package import WardStorage

/// Billing as a module: the price list, invoices, payments, credit notes and their reports;
/// card payments through Stripe with verified webhooks; invoice PDFs mailed to patients.
/// Amounts are integer minor units of the clinic's currency.
package struct BillingModule: WardModule {
    package static let name = "billing"
    package static var tenantMigrations: [Migration] { BillingMigrations.tenant }
    package static let permissions = [
        PermissionDefinition("billing:read", "read invoices and payments"),
        PermissionDefinition("billing:write", "issue invoices and record payments"),
        PermissionDefinition("billing:configure", "set the clinic's currency, invoice numbering and Stripe keys"),
    ]
    package static let roleGrants: [BuiltInRole: Set<String>] = [
        // The desk tells a patient what is owed; the clerk bills and takes payments. Clinical
        // roles see no amounts.
        .receptionist: ["billing:read"],
        .billingClerk: ["billing:read", "billing:write"],
    ]
    package static var operations: [APIOperation] { BillingController.operations }

    package let billing: BillingService
    let stripe: StripePayments
    let reports: BillingReports
    let documents: InvoiceDocuments
    let mail: BillingMail
    let jobPolicy: RetryPolicy

    /// Needs the documents module's tenant keys (to seal Stripe keys), the clinical PDF writer
    /// and the outbox.
    package init(node: ModuleNode) throws {
        let keys = try node.require(PatientDocuments.self, by: Self.name).keys
        let clinical = try node.require(ClinicalDocuments.self, by: Self.name)
        let outbox = try node.require(Outbox.self, by: Self.name)
        outbox.templates.register([BillingMail.invoice])
        documents = InvoiceDocuments(clinical: clinical)
        mail = BillingMail(outbox: outbox, queue: node.queue, tenants: node.storage.tenants, audit: node.audit, documents: documents,
                           protection: try node.require(PatientProtection.self, by: Self.name), jobAttempts: node.settings.jobs.maxAttempts)
        let settings = BillingSettingsStore(keys: keys, audit: node.audit, defaults: node.settings.billing)
        billing = BillingService(audit: node.audit, settings: settings, mail: mail)
        stripe = StripePayments(billing: billing, client: StripeClient(base: node.settings.billing.stripeAPIURL), tenants: node.storage.tenants,
                                logger: node.logger)
        reports = BillingReports(billing: billing)
        jobPolicy = RetryPolicy(node.settings.jobs)
        node.provide(billing)
        node.provide(reports)
        node.provide(documents)
    }

    package func routes(_ routes: inout ModuleRoutes) {
        BillingController(billing: billing, stripe: stripe, reports: reports, documents: documents).routes(&routes)
    }

    package func jobs() -> [JobHandler] { [mail.handler(policy: jobPolicy)] }
}
