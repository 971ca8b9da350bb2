import Foundation

/// A currency of ISO 4217 with the number of its minor units. Amounts are integers of minor
/// units everywhere (cents, paise, yen): nothing in billing is ever a floating-point number.
package struct Currency: Sendable, Hashable {
    package let code: String
    /// Digits after the decimal point: 2 for most, 0 for JPY, 3 for KWD.
    package let exponent: Int

    /// The active ISO 4217 codes whose minor unit is not 2, by exponent.
    private static let exceptions: [String: Int] = {
        var table: [String: Int] = [:]
        for code in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(separator: " ") { table[String(code)] = 0 }
        for code in "BHD IQD JOD KWD LYD OMR TND".split(separator: " ") { table[String(code)] = 3 }
        for code in "CLF UYW".split(separator: " ") { table[String(code)] = 4 }
        return table
    }()

    /// The active ISO 4217 codes with two minor digits.
    private static let twoDigit: Set<String> = Set("""
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK \
        DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK \
        LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON \
        RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD \
        YER ZAR ZMW ZWG
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))

    /// The currency with `code` (upper case), or nil when ISO 4217 has no such active code.
    package init?(_ code: String) {
        if let exponent = Self.exceptions[code] {
            self.code = code
            self.exponent = exponent
        } else if Self.twoDigit.contains(code) {
            self.code = code
            self.exponent = 2
        } else {
            return nil
        }
    }

    /// `amount` minor units written with the currency's decimals: "1234.50 USD" style without
    /// grouping, as the PDF and the CSV show it.
    package func format(_ amount: Int64) -> String {
        "\(plain(amount)) \(code)"
    }

    /// Minor units of an amount a person typed ("300", "300.5", "300.50"); nil when it is not
    /// a plain positive decimal with at most the currency's decimals.
    package func minorUnits(_ text: String) -> Int64? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy(\.isASCII),
              let units = Int64(whole), units >= 0 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= exponent, fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else { return nil }
        var scale: Int64 = 1
        for _ in 0..<exponent { scale *= 10 }
        let padded = fraction + String(repeating: "0", count: exponent - fraction.count)
        return units * scale + (padded.isEmpty ? 0 : Int64(padded) ?? 0)
    }

    /// The amount as a decimal number without the code ("-12.05").
    package func plain(_ amount: Int64) -> String {
        guard exponent > 0 else { return String(amount) }
        let sign = amount < 0 ? "-" : ""
        let magnitude = amount.magnitude
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        let fraction = String(magnitude % scale)
        return "\(sign)\(magnitude / scale).\(String(repeating: "0", count: exponent - fraction.count))\(fraction)"
    }
}

/// The arithmetic of invoice lines. Each line is rounded once, half away from zero, and an
/// invoice's totals are the sums of its rounded lines: the figures on the PDF add up exactly.
package enum Money {
    /// The largest unit price (in minor units) and quantity a line may have: their product,
    /// times a rate in basis points, stays within 64 bits.
    package static let maximumUnitAmount: Int64 = 10_000_000_000
    package static let maximumQuantity = 10_000

    /// `amount` × `basisPoints` / 10 000, rounded half away from zero.
    package static func share(of amount: Int64, basisPoints: Int) -> Int64 {
        let (product, overflow) = amount.multipliedReportingOverflow(by: Int64(basisPoints))
        precondition(!overflow, "line amounts are bounded so that their shares fit")
        let quotient = product / 10_000, remainder = product % 10_000
        if remainder.magnitude * 2 >= 10_000 { return quotient + (product < 0 ? -1 : 1) }
        return quotient
    }

    /// A rate in basis points as a percentage: 1800 → "18%", 1250 → "12.5%", 5 → "0.05%".
    package static func percent(_ basisPoints: Int) -> String {
        let whole = basisPoints / 100, rest = basisPoints % 100
        guard rest != 0 else { return "\(whole)%" }
        let digits = rest % 10 == 0 ? String(rest / 10) : (rest < 10 ? "0\(rest)" : String(rest))
        return "\(whole).\(digits)%"
    }

    /// One line's figures: gross (quantity × unit), its discount, the net, the tax on the net,
    /// and the total.
    package struct LineFigures: Sendable, Equatable {
        package let gross: Int64
        package let discount: Int64
        package let net: Int64
        package let tax: Int64
        package var total: Int64 { net + tax }
    }

    package static func line(quantity: Int, unitAmount: Int64, discountBasisPoints: Int, taxBasisPoints: Int) -> LineFigures {
        let gross = Int64(quantity) * unitAmount
        let discount = share(of: gross, basisPoints: discountBasisPoints)
        let net = gross - discount
        return LineFigures(gross: gross, discount: discount, net: net, tax: share(of: net, basisPoints: taxBasisPoints))
    }
}
