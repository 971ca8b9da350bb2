import Mustache

/// One kind of email: its subject, text and HTML as mustache templates. Values are given by
/// the module that sends it; `sample` fills a preview. HTML escapes every value; the subject
/// and text are plain text and take values as they are.
package struct MailTemplate: Sendable, Equatable {
    package var name: String
    package var summary: String
    package var subject: String
    package var text: String
    package var html: String
    package var sample: [String: String]

    package init(name: String, summary: String, subject: String, text: String, html: String, sample: [String: String]) {
        self.name = name
        self.summary = summary
        self.subject = subject
        self.text = text
        self.html = html
        self.sample = sample
    }

    /// The same template with another wording (a tenant's own).
    package func replacing(subject: String, text: String, html: String) -> MailTemplate {
        MailTemplate(name: name, summary: summary, subject: subject, text: text, html: html, sample: sample)
    }

    /// What the template says with `values`.
    package func render(_ values: [String: String]) throws -> (subject: String, text: String, html: String) {
        let subject = try Self.plain(subject).render(values).split(whereSeparator: \.isNewline).joined(separator: " ")
        return (subject, try Self.plain(text).render(values), try MustacheTemplate(string: html).render(values))
    }

    /// Refuses a wording that does not parse, naming the part, so a tenant's edit is checked
    /// when it is saved rather than when an email is due.
    package static func check(subject: String, text: String, html: String) -> [(field: String, message: String)] {
        var problems: [(String, String)] = []
        for (field, source, isHTML) in [("subject", subject, false), ("text", text, false), ("html", html, true)] {
            do {
                _ = isHTML ? try MustacheTemplate(string: source) : try plain(source)
            } catch {
                problems.append((field, "is not a valid mustache template: \(error)"))
            }
        }
        return problems
    }

    private static func plain(_ source: String) throws -> MustacheTemplate {
        try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
    }
}
