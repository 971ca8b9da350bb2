package import SQLKit

/// SQL identifiers Ward splices into statements (schema and table names). Values are always
/// bound; identifiers cannot be, so they are checked against a strict pattern first.
package enum SQLIdentifierName {
    /// Whether `name` is 1–63 of `[a-z0-9_]` starting with a letter: safe to splice unquoted
    /// and within PostgreSQL's identifier length.
    package static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
              name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }

    /// Returns `name` when valid, else throws.
    package static func validated(_ name: String) throws -> String {
        guard isValid(name) else { throw StorageError.invalidIdentifier(name) }
        return name
    }
}

/// SQL written as text for the hot paths. SQLKit's builders serialize every identifier through
/// a generic string replacement on each call; a point read spent more time building its
/// statement than SQLite spent running it. Names here are validated once, then spliced.
package enum SQLText {
    /// `names` as a quoted, comma-separated column list (`"id", "mrn"`). Every name must pass
    /// `SQLIdentifierName.isValid`; a constant list that does not is a programming error.
    package static func columns(_ names: [String]) -> String {
        precondition(names.allSatisfy(SQLIdentifierName.isValid), "invalid column in \(names)")
        return names.map { "\"\($0)\"" }.joined(separator: ", ")
    }
}

extension SQLText {
    /// Bind placeholders `1...count` in `dialect`'s form (`?1` or `$1`), comma-separated.
    package static func placeholders(_ range: ClosedRange<Int>, dialect: Dialect) -> String {
        range.map { (dialect == .postgres ? "$" : "?") + String($0) }.joined(separator: ", ")
    }

    /// A statement whose text is final, placeholders included (see `placeholders`), with its
    /// values. Serializing it appends the text once and the values as they are, where a
    /// `SQLQueryString` writes each placeholder through the dialect. It must be the whole query.
    package struct Statement: SQLExpression {
        let text: String
        let binds: [any Encodable & Sendable]

        package init(_ text: String, binds: [any Encodable & Sendable]) {
            self.text = text
            self.binds = binds
        }

        package func serialize(to serializer: inout SQLSerializer) {
            precondition(serializer.binds.isEmpty, "SQLText.Statement must be the whole query")
            serializer.write(text)
            serializer.binds.append(contentsOf: binds)
        }
    }
}
