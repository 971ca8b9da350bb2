import Foundation
import WardClinical
package import WardCore
package import WardHTTP
package import WardKit
package import WardStorage

/// Patients' documents as a module: the `documents` table in each tenant, the tenants' wrapped
/// data keys in the control plane, the object store `WARD_STORAGE_URL` names (files under the
/// data directory by default), the routes, readiness of the store and its metrics. A purged
/// tenant's objects and key go with it.
package struct DocumentsModule: WardModule {
    package static let name = "documents"
    package static var platformMigrations: [Migration] { DocumentsMigrations.platform }
    package static var tenantMigrations: [Migration] { DocumentsMigrations.tenant }
    package static let permissions = [
        PermissionDefinition("documents:read", "read patients' documents"),
        PermissionDefinition("documents:write", "file and archive patients' documents"),
    ]
    package static let roleGrants: [BuiltInRole: Set<String>] = [
        .doctor: ["documents:read", "documents:write"],
        .nurse: ["documents:read", "documents:write"],
        // The front desk files referrals, consent forms and ID scans, and checks them.
        .receptionist: ["documents:read", "documents:write"],
    ]
    package static var operations: [APIOperation] { DocumentsController.operations }

    package let documents: PatientDocuments
    let generated: GeneratedDocuments

    package init(node: ModuleNode) throws {
        let store = try Self.store(node.settings)
        documents = PatientDocuments(
            store: store, keys: TenantKeys(storage: node.storage, settings: node.settings), audit: node.audit,
            metrics: DocumentMetrics(registry: node.metrics.registry, store: store.kind), uploadLimit: node.settings.documents.uploadLimit,
            logger: node.logger
        )
        generated = GeneratedDocuments(documents: documents, clinical: try node.require(ClinicalDocuments.self, by: Self.name))
        node.provide(documents)
    }

    /// The store `WARD_STORAGE_URL` names, else `documents/` under the data directory.
    package static func store(_ settings: WardSettings) throws -> any ObjectStore {
        guard let url = settings.documents.storageURL else {
            return FileObjectStore(root: URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("documents"))
        }
        return try ObjectStores.named(url, credentials: credentials(settings))
    }

    /// The S3 credentials the settings give (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`), shared by the documents' store and an `s3://` backup destination.
    package static func credentials(_ settings: WardSettings) -> SigV4Signer.Credentials? {
        settings.documents.accessKeyID.flatMap { id in
            settings.documents.secretAccessKey.map { SigV4Signer.Credentials(accessKeyID: id, secretAccessKey: $0, sessionToken: settings.documents.sessionToken) }
        }
    }

    package func routes(_ routes: inout ModuleRoutes) {
        DocumentsController(documents: documents, prescriptions: generated).routes(&routes)
    }

    package func readinessChecks() -> [ReadinessCheck] {
        let store = documents.store
        return [ReadinessCheck("document_store") { try await store.check() }]
    }

    package func purge(_ tenant: Tenant) async throws {
        try await documents.purge(tenant)
    }
}
