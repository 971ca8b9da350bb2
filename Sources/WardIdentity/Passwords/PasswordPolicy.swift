package import OpenAPIKit
import Foundation
import WardCore
import WardHTTP

/// NIST SP 800-63B memorized-secret rules: long enough, not too long to hash, not built from
/// the account's own email or name, and not a commonly used password. Composition rules
/// (a digit, a symbol…) are deliberately absent: the guideline advises against them. Lengths
/// count Unicode code points, as the guideline says (and as JSON Schema's `minLength` does).
package struct PasswordPolicy: Sendable {
    package let minimumLength: Int
    package static let maximumLength = 128

    package init(minimumLength: Int) {
        self.minimumLength = minimumLength
    }

    /// The rules `password` breaks, each as a sentence naming the rule; empty when acceptable.
    package func violations(of password: String, email: String, name: String) -> [String] {
        var violations: [String] = []
        let length = password.unicodeScalars.count
        if length < minimumLength {
            violations.append("must be at least \(minimumLength) characters long")
        }
        if length > Self.maximumLength {
            violations.append("must be at most \(Self.maximumLength) characters long")
        }
        let lowered = password.lowercased()
        let localPart = email.lowercased().split(separator: "@").first.map(String.init) ?? ""
        if localPart.count >= 3, lowered.contains(localPart) || lowered.contains(email.lowercased()) {
            violations.append("must not contain the email address")
        }
        let nameParts = name.lowercased().split { !$0.isLetter }.filter { $0.count >= 3 }
        if nameParts.contains(where: { lowered.contains($0) }) {
            violations.append("must not contain the user's name")
        }
        if Self.commonPasswords.contains(lowered) {
            violations.append("is too common; choose a less guessable password")
        }
        return violations
    }

    /// The JSON Schema of a new password: the lengths (the rest of the policy, the account's
    /// own email and name and the list of common passwords, no schema can say: a password
    /// breaking it answers 422 naming the rule).
    package var schema: JSONSchema {
        .string(minLength: minimumLength, maxLength: Self.maximumLength, pattern: TextRules.storablePattern)
    }

    /// The policy with the default minimum length, as the OpenAPI document shows it unless a
    /// node's configuration says otherwise.
    package static let standard = PasswordPolicy(minimumLength: Int(Setting.passwordMinimumLength.defaultValue ?? "") ?? 12)

    /// Commonly used passwords, shipped as data (`common-passwords.txt`).
    static let commonPasswords: Set<String> = {
        guard let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.lowercased() })
    }()
}
