import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardClinical
import WardCore
import WardTestSupport

@Suite("Document pages")
struct DocumentPagesTests {
    static let letter: [UInt8] = Array("%PDF-1.4\n".utf8) + (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test("the chart files a document from its form as the file streams in, lists it and opens it; a form without its token, a file that is not what it says and a form missing its title are refused",
          arguments: TestBackend.allCases)
    func fileAndOpen(_ backend: TestBackend) async throws {
        try await withTestSite(backend) { site in
            try await TestNode.with(site) { node in
                try await node.user("doctor@acme.test", roles: ["doctor"], name: "Dana Doctor")
                try await node.user("clerk@acme.test", roles: ["billing_clerk"])
                let patient = try await node.patient("Ingrid", "Johansson")
                try await node.test { client in
                    let browser = Browser(client)
                    try await browser.signIn("doctor@acme.test")
                    let chart = try await browser.get("/app/patients/\(patient.id)")
                    #expect(chart.text.contains(#"enctype="multipart/form-data""#))
                    #expect(chart.text.contains("No documents."))
                    let token = Browser.formToken(chart.text)

                    let filed = try await browser.upload("/app/patients/\(patient.id)/documents", [("title", "Referral from Dr. Osei"), ("category", "referral"),
                                                                                                   ("document_date", "2026-11-30")],
                                                         file: ("referral.pdf", "application/pdf", Self.letter), token: token)
                    #expect(filed.status == .seeOther)
                    #expect(filed.headers[.location] == "/app/patients/\(patient.id)?filed=1")
                    let listed = try await browser.get("/app/patients/\(patient.id)?filed=1")
                    #expect(listed.text.contains("Document filed."))
                    #expect(listed.text.contains("Referral from Dr. Osei"))
                    #expect(listed.text.contains("2026-11-30"))
                    #expect(listed.text.contains("Dana Doctor"))
                    let href = try #require(listed.text.firstMatch(of: /href="(\/app\/patients\/[0-9a-f-]+\/documents\/[0-9a-f-]+)"/).map { String($0.1) })
                    let opened = try await browser.get(href)
                    #expect(opened.status == .ok)
                    #expect(opened.headers[.contentType] == "application/pdf")
                    #expect(opened.headers[.contentDisposition]?.hasPrefix("inline") == true)
                    #expect(Array(opened.body.readableBytesView) == Self.letter)

                    // No token: refused before a byte is stored.
                    let forged = try await browser.upload("/app/patients/\(patient.id)/documents", [("title", "Forged"), ("category", "referral")],
                                                          file: ("x.pdf", "application/pdf", Self.letter), token: nil)
                    #expect(forged.status == .forbidden)
                    #expect(forged.text.contains("This form could not be accepted"))
                    // A "PDF" that is not one.
                    let fake = try await browser.upload("/app/patients/\(patient.id)/documents", [("title", "Scan"), ("category", "imaging")],
                                                        file: ("scan.pdf", "application/pdf", Array("just some text".utf8)), token: token)
                    #expect(fake.status == .unsupportedMediaType)
                    #expect(fake.text.contains("The document was not filed"))
                    // The file first and the title after it: the title is not read, and is asked for.
                    let untitled = try await browser.upload("/app/patients/\(patient.id)/documents", [],
                                                            file: ("referral.pdf", "application/pdf", Self.letter), token: token)
                    #expect(untitled.status == .unprocessableContent)
                    #expect(untitled.text.contains("Title: say what the document is."))
                    let after = try await browser.get("/app/patients/\(patient.id)")
                    #expect(after.text.components(separatedBy: "/documents/").count - 1 == 1, "only the referral is listed")

                    // A form larger than a page takes (but under the node's body limit): refused as too large, not a failure.
                    let oversized = try await browser.post("/app/patients/\(patient.id)", ["given_name": String(repeating: "a", count: 100_000)], token: token)
                    #expect(oversized.status == .contentTooLarge)
                    #expect(oversized.text.contains("Too much was sent"))

                    // Someone without the documents permissions sees no documents and cannot open one.
                    let clerk = Browser(client)
                    try await clerk.signIn("clerk@acme.test")
                    #expect(try await clerk.get(href).status == .forbidden)
                }
            }
        }
    }
}
