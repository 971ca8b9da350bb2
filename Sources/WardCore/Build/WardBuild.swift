/// This build of Ward: what the OpenAPI document reports and a backup records.
package enum WardBuild {
    package static let version = "0.1.0"
}
