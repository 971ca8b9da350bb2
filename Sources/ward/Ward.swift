import ArgumentParser

/// The `ward` command: every operation of the runbooks is a subcommand.
@main
struct Ward: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ward",
        abstract: "Ward, a multi-tenant hospital management server.",
        subcommands: [ServeCommand.self, MigrateCommand.self, ConfigCommand.self, TenantCommand.self, ShardCommand.self, UserCommand.self, AdminCommand.self, AuditCommand.self, BackupCommand.self, KeysCommand.self, JobsCommand.self, EmailCommand.self, DocumentsCommand.self, SeedCommand.self, CheckCommand.self, MonitorCommand.self]
    )
}
