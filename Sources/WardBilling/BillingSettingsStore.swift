import Crypto
package import Foundation
import SQLKit
package import WardAudit
package import WardCore
package import WardDocuments
import WardHTTP
package import WardStorage

/// A clinic's billing settings: its currency, invoice prefix and payment terms, and its own
/// Stripe account's keys. The keys are sealed (ChaCha20-Poly1305) under the tenant's data key,
/// itself wrapped by the node's master key in the control plane: a copy of the tenant's
/// database alone does not reveal them. They are never returned once set.
package struct BillingSettingsStore: Sendable {
    package struct Current: Sendable {
        package var currency: String
        package var invoicePrefix: String
        package var paymentTermsDays: Int
        package var stripeSecretKey: String?
        package var webhookSecrets: [String]
        package var stripeUpdatedAt: String?
    }

    static let defaultPrefix = "INV-"
    static let prefixPattern = #"^[A-Z0-9-]{0,12}$"#

    let keys: TenantKeys
    let audit: AuditTrail
    /// The node's defaults: `WARD_BILLING_CURRENCY`, and the Stripe keys of a single-account
    /// installation (`WARD_STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`) used by clinics that
    /// set none of their own.
    let defaults: BillingSettings

    package init(keys: TenantKeys, audit: AuditTrail, defaults: BillingSettings) {
        self.keys = keys
        self.audit = audit
        self.defaults = defaults
    }

    /// The settings in force: the clinic's row, else the node's defaults.
    package func current(in scope: TenantScope) async throws -> Current {
        let table = try scope.table("billing_settings")
        let row = try await scope.read { database in
            try await database.select().columns("currency", "invoice_prefix", "payment_terms_days", "stripe_secret_key", "stripe_webhook_secrets",
                                                "stripe_updated_at").from(table).where("id", .equal, 1).first()
        }
        guard let row else {
            return Current(currency: defaults.currency, invoicePrefix: Self.defaultPrefix, paymentTermsDays: 30, stripeSecretKey: defaults.stripeSecretKey,
                           webhookSecrets: defaults.webhookSecrets, stripeUpdatedAt: nil)
        }
        let key = try await keys.key(for: scope.tenant.id)
        let secret = try row.decode(column: "stripe_secret_key", as: String?.self).map { try open($0, field: "secret_key", tenant: scope.tenant.id, key: key) }
        let hooks = try row.decode(column: "stripe_webhook_secrets", as: String?.self)
            .map { try open($0, field: "webhook_secrets", tenant: scope.tenant.id, key: key).split(separator: "\n").map(String.init) }
        return Current(
            currency: try row.decode(column: "currency", as: String.self), invoicePrefix: try row.decode(column: "invoice_prefix", as: String.self),
            paymentTermsDays: try row.decode(column: "payment_terms_days", as: Int.self),
            stripeSecretKey: secret ?? defaults.stripeSecretKey, webhookSecrets: hooks ?? defaults.webhookSecrets,
            stripeUpdatedAt: try row.decode(column: "stripe_updated_at", as: String?.self)
        )
    }

    package func view(in scope: TenantScope) async throws -> BillingSettingsView {
        let current = try await current(in: scope)
        return BillingSettingsView(currency: current.currency, invoicePrefix: current.invoicePrefix, paymentTermsDays: current.paymentTermsDays,
                                   stripeConfigured: current.stripeSecretKey != nil, stripeWebhookSecrets: current.webhookSecrets.count,
                                   stripeUpdatedAt: current.stripeUpdatedAt)
    }

    /// What a change asks for; nil leaves a setting as it is. Webhook secrets are the whole
    /// list in force (two during a rotation in Stripe's dashboard).
    package struct Change: Sendable {
        package var currency: String?
        package var invoicePrefix: String?
        package var paymentTermsDays: Int?
        package var stripeSecretKey: String?
        package var webhookSecrets: [String]?

        package init(currency: String? = nil, invoicePrefix: String? = nil, paymentTermsDays: Int? = nil, stripeSecretKey: String? = nil,
                     webhookSecrets: [String]? = nil) {
            self.currency = currency
            self.invoicePrefix = invoicePrefix
            self.paymentTermsDays = paymentTermsDays
            self.stripeSecretKey = stripeSecretKey
            self.webhookSecrets = webhookSecrets
        }
    }

    /// Changes the settings. The currency is fixed once an invoice has been issued in it.
    package func update(_ change: Change, in scope: TenantScope, by actor: AuditActor) async throws -> BillingSettingsView {
        var errors: [Problem.FieldError] = []
        if let currency = change.currency, Currency(currency) == nil { errors.append(.init(field: "currency", message: "must be an ISO 4217 code such as USD, EUR, INR")) }
        if let prefix = change.invoicePrefix, !TextRules.matches(prefix, Self.prefixPattern) {
            errors.append(.init(field: "invoice_prefix", message: "must be up to 12 capital letters, digits or hyphens"))
        }
        if let days = change.paymentTermsDays, !(0...365).contains(days) { errors.append(.init(field: "payment_terms_days", message: "must be 0 to 365")) }
        if let key = change.stripeSecretKey, !TextRules.matches(key, #"^(sk|rk)_(test|live)_[A-Za-z0-9]{4,200}$"#) {
            errors.append(.init(field: "stripe_secret_key", message: "must be a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_…)"))
        }
        if let secrets = change.webhookSecrets {
            if secrets.count > 3 { errors.append(.init(field: "stripe_webhook_secrets", message: "at most 3 (the current one and those being rotated out)")) }
            for (index, secret) in secrets.enumerated() where !TextRules.matches(secret, #"^whsec_[A-Za-z0-9+/=]{8,200}$"#) {
                errors.append(.init(field: "stripe_webhook_secrets[\(index)]", message: "must be a Stripe signing secret (whsec_…)"))
            }
        }
        guard errors.isEmpty else { throw BillingError.invalid(errors) }
        var next = try await current(in: scope)
        let key = try await keys.key(for: scope.tenant.id)
        let tenantID = scope.tenant.id
        let table = try scope.table("billing_settings"), invoices = try scope.table("invoices")
        if let currency = change.currency { next.currency = currency }
        if let prefix = change.invoicePrefix { next.invoicePrefix = prefix }
        if let days = change.paymentTermsDays { next.paymentTermsDays = days }
        let stripeChanged = change.stripeSecretKey != nil || change.webhookSecrets != nil
        let sealedKey = try (change.stripeSecretKey ?? next.stripeSecretKey).map { try seal($0, field: "secret_key", tenant: tenantID, key: key) }
        let hooks = change.webhookSecrets ?? next.webhookSecrets
        let sealedHooks = try hooks.isEmpty ? nil : seal(hooks.joined(separator: "\n"), field: "webhook_secrets", tenant: tenantID, key: key)
        let now = Timestamp.now()
        let audit = self.audit
        let chosen = next
        try await scope.transaction { database in
            if let currency = change.currency,
               let used = try await database.select().column("currency").from(invoices).where("status", .notEqual, "draft").first(),
               try used.decode(column: "currency", as: String.self) != currency {
                throw BillingError.conflict("Invoices have been issued in another currency: the currency cannot change now.")
            }
            try await database.delete(from: table).where("id", .equal, 1).run()
            try await database.insert(into: table)
                .columns("id", "currency", "invoice_prefix", "payment_terms_days", "stripe_secret_key", "stripe_webhook_secrets", "stripe_updated_at", "updated_at")
                .values(SQLBind(1), SQLBind(chosen.currency), SQLBind(chosen.invoicePrefix), SQLBind(chosen.paymentTermsDays), SQLBind(sealedKey), SQLBind(sealedHooks),
                        SQLBind(stripeChanged ? now : chosen.stripeUpdatedAt), SQLBind(now))
                .run()
            var details = ["currency": chosen.currency, "invoice_prefix": chosen.invoicePrefix, "payment_terms_days": String(chosen.paymentTermsDays)]
            if stripeChanged { details["stripe_keys"] = "changed" }
            try await audit.append(actor.record("update", resourceType: "billing_settings", details: details), in: database, scope: scope)
        }
        return try await view(in: scope)
    }

    private func seal(_ text: String, field: String, tenant: String, key: SymmetricKey) throws -> String {
        try ChaChaPoly.seal(Data(text.utf8), using: key, authenticating: Data("ward stripe v1 \(tenant) \(field)".utf8)).combined.base64EncodedString()
    }

    private func open(_ sealed: String, field: String, tenant: String, key: SymmetricKey) throws -> String {
        guard let data = Data(base64Encoded: sealed),
              let box = try? ChaChaPoly.SealedBox(combined: data),
              let plain = try? ChaChaPoly.open(box, using: key, authenticating: Data("ward stripe v1 \(tenant) \(field)".utf8)) else {
            throw BillingError.conflict("The clinic's Stripe keys cannot be opened with this node's master key.")
        }
        return String(decoding: plain, as: UTF8.self)
    }
}
