package import Crypto
import Foundation
import SQLKit
import Synchronization
package import WardAudit
import WardCore
package import WardStorage

/// A patient's number plate is patient data: it says who came to the hospital and when. The
/// plates of patients' vehicles are sealed in the clinic's database (ChaCha20-Poly1305 under a
/// key derived from the clinic's data key, bound to the vehicle), and the `plate` column, which
/// the gate matches on, holds a blind index instead (`#` and HMAC-SHA256 of the normalised
/// plate under another derived key; a real plate is letters and digits, so the two never
/// meet). Staff vehicles' plates stay in clear: they identify employees at work, and the
/// attendant's screen lists them. Audit events name a patient's vehicle by id, not by plate.
package final class PlateProtection: Sendable {
    private let tenantKeys: TenantKeys
    private let derived = Mutex<[String: PlateKeys]>([:])

    package init(keys: TenantKeys) {
        self.tenantKeys = keys
    }

    /// The plate keys of `scope`'s clinic, derived once per node.
    package func keys(for scope: TenantScope) async throws -> PlateKeys {
        if let known = derived.withLock({ $0[scope.tenant.id] }) { return known }
        let keys = PlateKeys(dataKey: try await tenantKeys.key(for: scope.tenant.id))
        derived.withLock { $0[scope.tenant.id] = keys }
        return keys
    }

    /// Forgets a purged clinic's keys.
    package func forget(_ tenantID: String) {
        derived.withLock { _ = $0.removeValue(forKey: tenantID) }
    }

    /// Seals, in batches, patients' plates stored in clear (by a build before sealing began):
    /// vehicles and their bookings. Returns how many rows it sealed.
    package func sealLegacy(in scope: TenantScope, audit: AuditTrail) async throws -> Int {
        let keys = try await keys(for: scope)
        var sealed = 0
        for (table, owned) in [("parking_vehicles", "owner_type = 'patient'"), ("parking_bookings", "patient_id IS NOT NULL")] {
            let rows = try scope.table(table)
            let idColumn = table == "parking_vehicles" ? "id" : "vehicle_id"
            while true {
                let batch = try await scope.transaction { database -> Int in
                    let clear = try await database.raw("""
                        SELECT id, \(ident: idColumn) AS vehicle, plate FROM \(rows) WHERE \(unsafeRaw: owned) AND plate NOT LIKE '#%' LIMIT 500
                        """).all()
                    for row in clear {
                        let stored = try keys.stored(try row.decode(column: "plate", as: String.self), vehicleID: try row.decode(column: "vehicle", as: String.self),
                                                     patient: true)
                        try await database.update(rows).set("plate", to: stored.plate).set("plate_sealed", to: stored.sealed)
                            .where("id", .equal, try row.decode(column: "id", as: String.self)).run()
                    }
                    if !clear.isEmpty {
                        try await audit.append(AuditActor.system.record("seal_fields", resourceType: table == "parking_vehicles" ? "parking_vehicle" : "parking_booking",
                                                                        details: ["count": String(clear.count)]), in: database, scope: scope)
                    }
                    return clear.count
                }
                guard batch > 0 else { break }
                sealed += batch
            }
        }
        return sealed
    }
}

/// A clinic's keys for plates: one seals, one indexes.
package struct PlateKeys: Sendable {
    private let text: SealedText
    /// What begins a blind index in the `plate` column.
    static let indexPrefix = "#"

    package init(dataKey: SymmetricKey) {
        text = SealedText(dataKey: dataKey, purpose: "parking plates")
    }

    /// The blind index of a normalised plate.
    func index(_ plate: String) -> String {
        Self.indexPrefix + text.index(plate)
    }

    /// What the `plate` column may hold for a normalised plate as typed: the plate itself (a
    /// staff vehicle) or its blind index (a patient's).
    func matching(_ plate: String) -> [String] {
        [plate, index(plate)]
    }

    /// The `plate` and `plate_sealed` columns of a vehicle's plate (and of its bookings').
    func stored(_ plate: String, vehicleID: String, patient: Bool) throws -> (plate: String, sealed: String?) {
        guard patient else { return (plate, nil) }
        return (index(plate), try text.seal(plate, context: "parking.plate.\(vehicleID)"))
    }

    /// The plate of a stored row: the `plate` column itself, or the sealed plate opened.
    func open(_ stored: String, sealed: String?, vehicleID: String) throws -> String {
        guard stored.hasPrefix(Self.indexPrefix) else { return stored }
        guard let sealed, let plain = text.open(sealed, context: "parking.plate.\(vehicleID)") else { throw SealedPlateDamaged(vehicleID: vehicleID) }
        return plain
    }

    /// A vehicle row (its columns and `plate_sealed`), its plate opened.
    func vehicle(_ row: any SQLRow) throws -> Vehicle {
        var vehicle = try row.decode(model: Vehicle.self)
        vehicle.plate = try open(vehicle.plate, sealed: try row.decode(column: "plate_sealed", as: String?.self), vehicleID: vehicle.id)
        return vehicle
    }
}

/// A sealed plate that does not open under its clinic's key: damage, or a row moved between
/// vehicles.
package struct SealedPlateDamaged: Error, CustomStringConvertible {
    package let vehicleID: String
    package var description: String { "the sealed plate of vehicle \(vehicleID) does not open" }
}
