import Foundation
import Testing
@testable import WardCore

@Suite("README")
struct ReadmeTests {
    static let readme: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    @Test("the configuration table lists every setting with its default")
    func configurationTable() {
        for setting in Setting.all {
            let row = Self.readme.split(separator: "\n").first { $0.hasPrefix("| `\(setting.environmentVariable)` |") }
            #expect(row != nil, "README lacks \(setting.environmentVariable)")
            if let row, let value = setting.defaultValue {
                #expect(row.contains("`\(value)`"), "README's default for \(setting.environmentVariable)")
            }
        }
    }

    @Test("the README starts with the two set-up commands: run the server, run the tests")
    func firstCommands() {
        let blocks = Self.readme.components(separatedBy: "```")
        let commands = blocks.count > 1 ? blocks[1].split(separator: "\n").dropFirst().map(String.init) : []
        #expect(commands.count == 2)
        #expect(commands.first?.hasPrefix("swift run ward serve") == true)
        #expect(commands.last?.hasPrefix("scripts/test") == true)
    }
}
