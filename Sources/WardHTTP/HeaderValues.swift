package import HTTPTypes

extension HTTPFields {
    /// The value of the field named `name`, as the subscript gives it (repeated fields joined),
    /// without the subscript's cost when the field appears once or not at all: the subscript
    /// joins through a lazy, unspecialized map, about a microsecond per lookup, and every
    /// request looks up several headers.
    package func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
