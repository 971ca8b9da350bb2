import ArgumentParser
import Foundation
import WardDocuments
import WardServer

/// `ward documents rewrap`: after `WARD_SECRET_KEY` is rotated (the old key moved to
/// `WARD_SECRET_PREVIOUS_KEYS`), wraps every tenant's document key with the new one. Objects
/// are not touched: their data keys do not change. Once it reports done, the old key can leave
/// `WARD_SECRET_PREVIOUS_KEYS` as far as documents are concerned.
struct DocumentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "documents", abstract: "Manage patients' documents.", subcommands: [Rewrap.self, Check.self])

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wrap every tenant's document key with the current WARD_SECRET_KEY.")

        func run() async throws {
            let count = try await NodeBootstrap.withServices(label: "ward.documents") { services in
                guard let module = services.modules.compactMap({ $0 as? DocumentsModule }).first else { throw CommandFailure("the documents module is not registered") }
                return try await module.documents.keys.rewrapAll()
            }
            print("rewrapped the document keys of \(count) tenant\(count == 1 ? "" : "s")")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that the document store (WARD_STORAGE_URL) answers with the credentials given.")

        func run() async throws {
            let settings = try await NodeBootstrap.settings(logToStandardError: true)
            let store = try DocumentsModule.store(settings)
            do {
                try await store.check()
            } catch {
                throw CommandFailure("the \(store.kind) store is not usable: \(error)")
            }
            print("the \(store.kind) store answers")
        }
    }
}
