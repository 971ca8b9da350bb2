import Testing
@testable import WardBilling

@Suite("Money")
struct MoneyTests {
    @Test("currencies carry ISO 4217's minor units; unknown codes are refused")
    func currencies() throws {
        #expect(try #require(Currency("USD")).exponent == 2)
        #expect(try #require(Currency("JPY")).exponent == 0)
        #expect(try #require(Currency("KWD")).exponent == 3)
        #expect(Currency("XYZ") == nil)
        #expect(Currency("usd") == nil)
        #expect(try #require(Currency("INR")).format(123_456) == "1234.56 INR")
        #expect(try #require(Currency("USD")).plain(-5) == "-0.05")
        #expect(try #require(Currency("JPY")).plain(1200) == "1200")
        #expect(try #require(Currency("KWD")).plain(1_005) == "1.005")
        #expect(try #require(Currency("INR")).minorUnits("300.5") == 30_050)
        #expect(try #require(Currency("INR")).minorUnits("12") == 1_200)
        #expect(try #require(Currency("INR")).minorUnits("1.234") == nil)
        #expect(try #require(Currency("INR")).minorUnits("-3") == nil)
        #expect(try #require(Currency("JPY")).minorUnits("1.5") == nil)
        #expect(Money.percent(1_800) == "18%" && Money.percent(1_250) == "12.5%" && Money.percent(5) == "0.05%")
    }

    @Test("shares round half away from zero, once per line")
    func rounding() {
        #expect(Money.share(of: 999, basisPoints: 1_000) == 100)      // 99.9
        #expect(Money.share(of: 25, basisPoints: 1_000) == 3)         // 2.5 → 3
        #expect(Money.share(of: 24, basisPoints: 1_000) == 2)         // 2.4
        #expect(Money.share(of: -25, basisPoints: 1_000) == -3)
        #expect(Money.share(of: 0, basisPoints: 1_800) == 0)
        let line = Money.line(quantity: 3, unitAmount: 333, discountBasisPoints: 1_000, taxBasisPoints: 1_800)
        #expect(line == Money.LineFigures(gross: 999, discount: 100, net: 899, tax: 162))
        #expect(line.total == 1_061)
        // The largest line the API accepts stays exact.
        let largest = Money.line(quantity: Money.maximumQuantity, unitAmount: Money.maximumUnitAmount, discountBasisPoints: 0, taxBasisPoints: 10_000)
        #expect(largest.tax == largest.net)
    }

    @Test("a credit note refunds only what was paid beyond the reduced total")
    func refunds() {
        func invoice(total: Int64, paid: Int64, credited: Int64) -> Invoice {
            Invoice(id: "i", number: nil, patientID: "p", patientName: nil, status: "issued", currency: "USD", subtotal: total, discountTotal: 0,
                    taxTotal: 0, total: total, paid: paid, credited: credited, balance: total - credited - paid, note: nil, dueDate: nil, issuedAt: nil,
                    voidedAt: nil, voidReason: nil, disputed: false, createdAt: "", version: 1, lines: [], payments: [], creditNotes: [])
        }
        #expect(BillingService.refundDue(on: invoice(total: 10_000, paid: 0, credited: 0), crediting: 4_000) == 0)
        #expect(BillingService.refundDue(on: invoice(total: 10_000, paid: 10_000, credited: 0), crediting: 4_000) == 4_000)
        #expect(BillingService.refundDue(on: invoice(total: 10_000, paid: 7_000, credited: 0), crediting: 4_000) == 1_000)
        #expect(BillingService.refundDue(on: invoice(total: 10_000, paid: 6_000, credited: 0), crediting: 4_000) == 0)
        #expect(Invoice.settledStatus(total: 10_000, paid: 6_000, credited: 4_000) == "paid")
        #expect(Invoice.settledStatus(total: 10_000, paid: 1, credited: 0) == "partially_paid")
    }

    @Test("Stripe's signature scheme: any v1 under any secret, within five minutes")
    func signatures() throws {
        let payload = Array(#"{"id":"evt_1"}"#.utf8)
        let header = StripeSignature.header(payload: payload, secret: "whsec_current", timestamp: 1_800_000_000)
        let now = Date(timeIntervalSince1970: 1_800_000_100)
        try StripeSignature.verify(header: header, payload: payload, secrets: ["whsec_old", "whsec_current"], now: now)
        #expect(throws: StripeSignature.Failure.noMatch) { try StripeSignature.verify(header: header, payload: payload, secrets: ["whsec_old"], now: now) }
        #expect(throws: StripeSignature.Failure.noMatch) {
            try StripeSignature.verify(header: header, payload: payload + [0x20], secrets: ["whsec_current"], now: now)
        }
        #expect(throws: StripeSignature.Failure.outsideTolerance) {
            try StripeSignature.verify(header: header, payload: payload, secrets: ["whsec_current"], now: now.addingTimeInterval(301))
        }
        #expect(throws: StripeSignature.Failure.malformed) { try StripeSignature.verify(header: "v1=abc", payload: payload, secrets: ["whsec_current"], now: now) }
        #expect(BillingReports.csv([["=SUM(A1)", "a,b", "-5"]]) == "'=SUM(A1),\"a,b\",-5\r\n")
    }
}

import Foundation
