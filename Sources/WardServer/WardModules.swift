import WardBackup
import WardBilling
import WardClinical
import WardDocuments
import WardIdentity
package import WardKit
import WardMail
import WardParking
import WardPlatform
import WardWeb

/// The modules of this build, in order: migrations, seeds and routes follow it. A module that
/// needs another's service comes after it. Adding a module is one line here.
package enum WardModules {
    package static let registered: [any WardModule.Type] = [
        MailModule.self,
        IdentityModule.self,
        AuditModule.self,
        JobsModule.self,
        ClinicalModule.self,
        DocumentsModule.self,
        BackupModule.self,
        BillingModule.self,
        ParkingModule.self,
        PlatformModule.self,
        WebModule.self,
    ]
}
