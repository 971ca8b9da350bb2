// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Ward",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ward", targets: ["ward"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // SMTP's STARTTLS and implicit TLS (already in the graph through postgres-nio).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // The web app's templates: logic-less, escaped by default, with template inheritance for the layout.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The API document's schemas as typed values; without the trait that loads external references.
        .package(url: "https://github.com/mattpolzin/OpenAPIKit", from: "6.4.0", traits: []),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        // Backups are deflated before they are sealed (zlib, through NIO byte buffers).
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "WardCore",
            dependencies: [
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardStorage",
            dependencies: [
                "WardCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardHTTP",
            dependencies: [
                "WardCore",
                "WardStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardAudit",
            dependencies: [
                "WardCore",
                "WardHTTP",
                "WardStorage",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardJobs",
            dependencies: [
                "WardCore",
                "WardStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardKit",
            dependencies: [
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardJobs",
                "WardStorage",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardIdentity",
            dependencies: [
                "WardMail",
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardStorage",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            resources: [.copy("Resources/common-passwords.txt")],
            swiftSettings: swiftSettings
        ),
        // Email: the outbox, SMTP and file transports, MIME, DKIM, each tenant's wording.
        .target(
            name: "WardMail",
            dependencies: [
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardJobs",
                "WardStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // Documents as PDF: a small writer with TrueType subsetting (no PDF library is installable).
        .target(name: "WardPDF", swiftSettings: swiftSettings),
        .target(
            name: "WardClinical",
            dependencies: [
                "WardIdentity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "WardMail",
                "WardKit",
                "WardPDF",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardStorage",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // Patients' documents: encrypted chunk by chunk, kept in files or any S3-compatible store.
        .target(
            name: "WardDocuments",
            dependencies: [
                "WardClinical",
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardPlatform",
            dependencies: [
                "WardMail",
                "WardKit",
                "WardAudit",
                "WardClinical",
                "WardCore",
                "WardHTTP",
                "WardIdentity",
                "WardJobs",
                "WardStorage",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // Billing: invoices, payments and credit notes; card payments through Stripe.
        .target(
            name: "WardBilling",
            dependencies: [
                "WardClinical",
                "WardDocuments",
                "WardMail",
                "WardPDF",
                "WardJobs",
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // Campus parking: car parks, zones, spots, vehicles and bookings that never double-book.
        .target(
            name: "WardParking",
            dependencies: [
                "WardBilling",
                "WardJobs",
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardWeb",
            dependencies: [
                "WardBilling",
                "WardParking",
                "WardDocuments",
                "WardKit",
                "WardAudit",
                "WardClinical",
                "WardCore",
                "WardHTTP",
                "WardIdentity",
                "WardPlatform",
                "WardStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardServer",
            dependencies: [
                "WardBackup",
                "WardBilling",
                "WardParking",
                "WardDocuments",
                "WardMail",
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardIdentity",
                "WardClinical",
                "WardJobs",
                "WardPlatform",
                "WardStorage",
                "WardWeb",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardTestSupport",
            dependencies: [
                "CWardSpawn",
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardIdentity",
                "WardJobs",
                "WardPlatform",
                "WardServer",
                "WardStorage",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WardBackup",
            dependencies: [
                "WardAudit",
                "WardClinical",
                "WardCore",
                "WardDocuments",
                "WardJobs",
                "WardKit",
                "WardStorage",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // glibc's malloc tuning, which Swift's Glibc module does not expose.
        .target(name: "CWardMemory"),
        // posix_spawn for the tests' helper processes (see ward_spawn.c).
        .target(name: "CWardSpawn"),
        .executableTarget(
            name: "ward",
            dependencies: [
                "CWardMemory",
                "WardBackup",
                "WardKit",
                "WardCore",
                "WardStorage",
                "WardServer",
                "WardIdentity",
                "WardAudit",
                "WardClinical",
                "WardJobs",
                "WardMail",
                "WardDocuments",
                "WardParking",
                "WardPlatform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ward-bench",
            dependencies: [
                "WardKit",
                "WardAudit",
                "WardCore",
                "WardHTTP",
                "WardIdentity",
                "WardServer",
                "WardStorage",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/WardBench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardCoreTests",
            dependencies: ["WardCore", "WardTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardMailTests",
            dependencies: [
                "WardMail", "WardServer", "WardJobs", "WardCore", "WardTestSupport",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "WardPDFTests", dependencies: ["WardPDF", "WardTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WardDocumentsTests",
            dependencies: [
                "WardDocuments", "WardClinical", "WardServer", "WardCore", "WardStorage", "WardTestSupport",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardBackupTests",
            dependencies: [
                "WardBackup", "WardAudit", "WardDocuments", "WardJobs", "WardServer", "WardCore", "WardStorage", "WardTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardBillingTests",
            dependencies: [
                "WardBilling", "WardClinical", "WardServer", "WardCore", "WardStorage", "WardTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardParkingTests",
            dependencies: [
                "WardParking", "WardServer", "WardCore", "WardStorage", "WardTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardHTTPTests",
            dependencies: ["WardHTTP", "WardCore", .product(name: "OpenAPIKit", package: "OpenAPIKit"), .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardStorageTests",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),"WardStorage", "WardCore", "WardTestSupport", .product(name: "SQLKit", package: "sql-kit")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardAuditTests",
            dependencies: [
                "WardAudit",
                "WardStorage",
                "WardCore",
                "WardTestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardClinicalTests",
            dependencies: [
                "WardMail",
                "WardJobs",
                "WardKit",
                "WardClinical",
                "WardServer",
                "WardHTTP",
                "WardIdentity",
                "WardAudit",
                "WardStorage",
                "WardCore",
                "WardTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardIdentityTests",
            dependencies: [
                "WardKit",
                "WardAudit",
                "WardIdentity",
                "WardServer",
                "WardHTTP",
                "WardStorage",
                "WardCore",
                "WardTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardJobsTests",
            dependencies: [
                "WardJobs",
                "WardCore",
                "WardStorage",
                "WardTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardPlatformTests",
            dependencies: [
                "WardBackup",
                "WardMail",
                "WardParking",
                "WardKit",
                "WardPlatform",
                "WardJobs",
                "WardServer",
                "WardIdentity",
                "WardAudit",
                "WardClinical",
                "WardHTTP",
                "WardStorage",
                "WardCore",
                "WardTestSupport",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardWebTests",
            dependencies: [
                "WardKit",
                "WardClinical",
                "WardServer",
                "WardHTTP",
                "WardIdentity",
                "WardAudit",
                "WardStorage",
                "WardCore",
                "WardTestSupport",
                "WardWeb",
                "WardMail",
                "WardParking",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WardServerTests",
            dependencies: [
                "WardKit",
                "WardServer",
                "WardHTTP",
                "WardIdentity",
                "WardAudit",
                "WardStorage",
                "WardCore",
                "WardTestSupport",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
