import Testing
@testable import WardWeb

@Suite("Templates")
struct TemplateTests {
    static let all = [LayoutTemplates.all, SignInTemplates.all, ClinicalTemplates.all, AdministrationTemplates.all, ConsoleTemplates.all]
        .flatMap { $0 }

    @Test("a template inserts unescaped only SafeHTML fields (named …HTML), and every template parses")
    func unescapedOnlySafeHTML() throws {
        for (name, text) in Self.all {
            #expect(!text.contains("{{&"), "\(name) uses {{& …}}")
            for match in text.matches(of: /\{\{\{\s*([A-Za-z.]+)\s*\}\}\}/) {
                #expect(match.1.hasSuffix("HTML"), "\(name) inserts \(match.1) unescaped")
            }
        }
        _ = try PageRenderer()
    }

    @Test("SafeHTML escapes every value for text and quoted attributes")
    func escaping() {
        var html = SafeHTML.Builder(capacity: 64)
        html.markup("<a title=\"")
        html.text(#"O'Brien "Q" <b> & co"#)
        html.markup("\">")
        html.text("Ünïcode, plain")
        html.markup("</a>")
        #expect(html.result.description == #"<a title="O&#39;Brien &quot;Q&quot; &lt;b&gt; &amp; co">Ünïcode, plain</a>"#)
    }
}
