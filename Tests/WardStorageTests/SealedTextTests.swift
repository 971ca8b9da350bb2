import Crypto
import Foundation
import Testing
import WardStorage

@Suite("Sealed text")
struct SealedTextTests {
    static let dataKey = SymmetricKey(data: Array(0..<32) as [UInt8])

    @Test("blind indexes are HKDF-SHA256 then HMAC-SHA256, as an independent implementation (Python's hmac) computes them: stored indexes stay findable")
    func knownIndexes() {
        #expect(SealedText(dataKey: Self.dataKey, purpose: "patient fields").index("phone:+442079460958") == "c7d6f4e373b159bf7de95cb4f5edef0c")
        #expect(SealedText(dataKey: Self.dataKey, purpose: "parking plates").index("XY99ZZQ") == "153328a6a236b23c65c2f33879a35042")
    }

    @Test("a sealed value opens only under its purpose's key and its own context")
    func contexts() throws {
        let fields = SealedText(dataKey: Self.dataKey, purpose: "patient fields")
        let sealed = try fields.seal("+44 20 7946 0958", context: "patients.phone.a")
        #expect(sealed.hasPrefix("v1:") && !sealed.contains("7946"))
        #expect(fields.open(sealed, context: "patients.phone.a") == "+44 20 7946 0958")
        #expect(fields.open(sealed, context: "patients.phone.b") == nil)
        #expect(SealedText(dataKey: Self.dataKey, purpose: "parking plates").open(sealed, context: "patients.phone.a") == nil)
        #expect(fields.open("v1:" + String(sealed.dropFirst(4)), context: "patients.phone.a") == nil)
    }
}
