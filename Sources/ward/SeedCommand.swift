import ArgumentParser
import Foundation
import Logging
import WardAudit
import WardClinical
import WardParking
import WardCore
import WardServer
import WardStorage

/// `ward seed bench|demo`: the benchmark contract's data set, or a small demo clinic.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed", abstract: "Create seed data.", subcommands: [Bench.self, Tenants.self, Demo.self, Parking.self])

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tenant `bench`: 100,000 patients, 50 practitioners, doctor@bench.test (password bench-password-1) as doctor."
        )
        @Option(help: "How many patients.") var patients = 100_000

        func run() async throws {
            try await SeedCommand.seed(slug: "bench", name: "Bench Clinic", patients: patients, practitioners: 50, users: [
                ("doctor@bench.test", "Dana Whitfield", "bench-password-1", "doctor"),
            ])
        }
    }

    struct Tenants: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Many small clinics for the multi-tenant benchmark: bench-0001…, each with patients; the first --with-users of them also get doctor@<slug>.test (password bench-password-1)."
        )
        @Option(help: "How many tenants.") var count = 1000
        @Option(help: "Patients per tenant.") var patients = 50
        @Option(name: .customLong("with-users"), help: "How many of the tenants get a doctor who can log in.") var withUsers = 100

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.seed") { services in
                let started = ContinuousClock.now
                for index in 1...max(count, 1) {
                    let slug = String(format: "bench-%04d", index)
                    if try await services.storage.tenants.find(slug: slug) == nil {
                        try await services.lifecycle.provisionNow(.init(slug: slug, name: "Bench Clinic \(index)"))
                    }
                    let scope = try await services.storage.tenants.activeScope(slug: slug)
                    if index <= withUsers, try await services.identity.users(in: scope).isEmpty {
                        _ = try await services.identity.createUser(in: scope, email: "doctor@\(slug).test", name: "Doctor \(index)",
                                                                   password: "bench-password-1", roles: ["doctor"], by: .system)
                    }
                    if try await services.node.require(PatientService.self, by: "seed").list(after: nil, limit: 1, in: scope, by: .system).isEmpty {
                        _ = try await services.node.require(PatientService.self, by: "seed").importPatients(ClinicalSeed.patients(patients), in: scope, by: .system)
                    }
                }
                print("seeded \(count) tenants of \(patients) patients (\(min(withUsers, count)) with a doctor) in \(ContinuousClock.now - started)")
            }
        }
    }

    struct Parking: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tenant `bench` gains a car park for the parking benchmark: spots in zones of 500, staff vehicles and past stays; attendant@bench.test (password bench-password-1) books."
        )
        @Option(help: "How many spots.") var spots = 5_000
        @Option(help: "How many vehicles.") var vehicles = 5_000
        @Option(help: "How many completed stays in the past.") var past = 200_000
        @Option(help: "Write facility, zones and vehicles (one id a line) into this directory.") var ids: String?

        func run() async throws {
            try await NodeBootstrap.withServices(label: "ward.seed") { services in
                if try await services.storage.tenants.find(slug: "bench") == nil {
                    try await services.lifecycle.provisionNow(.init(slug: "bench", name: "Bench Clinic"))
                }
                let scope = try await services.storage.tenants.activeScope(slug: "bench")
                let attendant = try await services.identity.createUser(in: scope, email: "attendant@bench.test", name: "Sam Okoro",
                                                                       password: "bench-password-1", roles: ["parking_attendant"], by: .system)
                let started = ContinuousClock.now
                let estate = try await ParkingSeed.bench(spots: spots, vehicles: vehicles, past: past, owner: attendant.id,
                                                         service: try services.node.require(ParkingService.self, by: "seed"), in: scope, by: .system)
                if let ids {
                    let folder = URL(fileURLWithPath: ids)
                    try (estate.facilityID + "\n").write(to: folder.appendingPathComponent("facility"), atomically: true, encoding: .utf8)
                    try (estate.zoneIDs.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("zones"), atomically: true, encoding: .utf8)
                    try (estate.vehicleIDs.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("vehicles"), atomically: true, encoding: .utf8)
                }
                print("seeded parking: \(spots) spots in \(estate.zoneIDs.count) zones, \(vehicles) vehicles, \(past) past stays in \(ContinuousClock.now - started)")
            }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tenant `demo`: a small clinic with 200 patients, 6 practitioners, one user per built-in role (password printed) and a campus of two car parks."
        )
        func run() async throws {
            let password = "ward-" + UUID().uuidString.prefix(13).lowercased()
            let roles = ["tenant_admin", "doctor", "nurse", "receptionist", "billing_clerk", "auditor", "parking_attendant"]
            try await SeedCommand.seed(slug: "demo", name: "Riverside Demo Clinic", patients: 200, practitioners: 6,
                                       users: roles.map { ("\($0.replacingOccurrences(of: "_", with: "."))@demo.test", "Demo \($0.capitalized)", password, $0) },
                                       then: SeedCommand.campus)
            print("demo users share the password \(password)")
        }
    }

    /// Two car parks: a multi-storey by the main entrance (patients, visitors, accessible and
    /// EV spots) and a staff lot.
    static func campus(_ services: WardServices, scope: TenantScope) async throws {
        let slug = scope.tenant.slug
        let parking = try services.node.require(ParkingService.self, by: "seed")
        guard try await parking.facilities(in: scope).isEmpty else { return }
        let zone = scope.tenant.timeZone
        let main = try await parking.addFacility(name: "Main entrance multi-storey", address: "Hospital Road", timeZone: zone, openingHours: "24 hours",
                                                 in: scope, by: .system)
        let patients = try await parking.addZone(facilityID: main.id, name: "Level 0 patients", level: "0", kind: "patient", hourlyRate: 250,
                                                 dailyCap: 1_500, freeMinutes: 30, in: scope, by: .system)
        _ = try await parking.addSpots(zoneID: patients.id, codes: (1...40).map { "P\($0)" }, kind: "standard", chargerKW: nil, in: scope, by: .system)
        _ = try await parking.addSpots(zoneID: patients.id, codes: (1...6).map { "A\($0)" }, kind: "accessible", chargerKW: nil, in: scope, by: .system)
        _ = try await parking.addSpots(zoneID: patients.id, codes: (1...4).map { "E\($0)" }, kind: "ev", chargerKW: 22, in: scope, by: .system)
        let visitors = try await parking.addZone(facilityID: main.id, name: "Level 1 visitors", level: "1", kind: "visitor", hourlyRate: 300,
                                                 dailyCap: 2_000, freeMinutes: 0, in: scope, by: .system)
        _ = try await parking.addSpots(zoneID: visitors.id, codes: (1...30).map { "V\($0)" }, kind: "standard", chargerKW: nil, in: scope, by: .system)
        let staffLot = try await parking.addFacility(name: "Staff lot", address: "Service Road", timeZone: zone, openingHours: nil, in: scope, by: .system)
        let staff = try await parking.addZone(facilityID: staffLot.id, name: "Staff", level: nil, kind: "staff", hourlyRate: 0, dailyCap: 0, freeMinutes: 0,
                                              in: scope, by: .system)
        _ = try await parking.addSpots(zoneID: staff.id, codes: (1...60).map { "S\($0)" }, kind: "standard", chargerKW: nil, in: scope, by: .system)
        print("seeded \(slug): 2 car parks, 140 spots")
    }

    static func seed(slug: String, name: String, patients count: Int, practitioners: Int, users: [(String, String, String, String)],
                     then extra: ((WardServices, TenantScope) async throws -> Void)? = nil) async throws {
        try await NodeBootstrap.withServices(label: "ward.seed") { services in
            if try await services.storage.tenants.find(slug: slug) == nil {
                try await services.lifecycle.provisionNow(.init(slug: slug, name: name))
            }
            let scope = try await services.storage.tenants.activeScope(slug: slug)
            for (email, userName, password, role) in users {
                _ = try await services.identity.createUser(in: scope, email: email, name: userName, password: password, roles: [role], by: .system)
            }
            let scheduling = SchedulingService(audit: services.audit)
            for index in 0..<practitioners {
                let family = ClinicalSeed.familyNames[(index * 7) % ClinicalSeed.familyNames.count]
                let given = ClinicalSeed.givenNames[(index * 11) % ClinicalSeed.givenNames.count]
                _ = try await scheduling.createPractitioner(name: "Dr. \(given) \(family)", specialty: ClinicalSeed.specialties[index % ClinicalSeed.specialties.count],
                                                            licenceNumber: String(format: "LIC-%05d", index + 1), email: nil, in: scope, by: .system)
            }
            let started = ContinuousClock.now
            let imported = try await services.node.require(PatientService.self, by: "seed").importPatients(ClinicalSeed.patients(count), in: scope, by: .system)
            print("seeded \(slug): \(imported) patients in \(ContinuousClock.now - started), \(practitioners) practitioners, \(users.count) users")
            try await extra?(services, scope)
        }
    }
}
