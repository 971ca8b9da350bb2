package import WardCore

/// What a billing request can fail with, as the problem it answers.
package enum BillingError: Error, ProblemConvertible {
    case notFound(String)
    case invalid([Problem.FieldError])
    case wrongState(String)
    case conflict(String)
    case versionMismatch(current: Int)
    case stripeNotConfigured
    case stripeRefused(String)
    case stripeMalformed
    case stripeUnavailable

    package var problem: Problem {
        switch self {
        case .notFound(let what):
            Problem(status: 404, title: "Not found", detail: "No such \(what) in this clinic.")
        case .invalid(let errors):
            Problem(status: 422, title: "Invalid billing request", detail: "Some fields are invalid.", errors: errors)
        case .wrongState(let detail):
            Problem(status: 409, title: "Not possible in the invoice's state", detail: detail)
        case .conflict(let detail):
            Problem(status: 409, title: "Conflict", detail: detail)
        case .versionMismatch(let current):
            Problem(status: 412, title: "Invoice changed", detail: "The invoice is at version \(current) now; reload it and try again.")
        case .stripeNotConfigured:
            Problem(status: 409, title: "Card payments not set up",
                    detail: "This clinic has no Stripe secret key: a clinic administrator sets one in the billing settings.")
        // A refusal is about the clinic's Stripe account or this payment (a key Stripe does not
        // accept, a currency it does not take, an amount below its minimum): the clinic acts on it.
        case .stripeRefused(let message):
            Problem(status: 409, title: "Stripe refused the request", detail: "\(message) Check the clinic's Stripe settings.")
        case .stripeMalformed:
            Problem(status: 502, title: "Stripe's answer was not understood", detail: "Stripe answered without what Ward asked for; try again.")
        case .stripeUnavailable:
            Problem(status: 503, title: "Stripe unavailable", detail: "Stripe did not answer; nothing was charged or refunded. Try again.")
        }
    }

    package var retryAfter: Int? {
        if case .stripeUnavailable = self { return 10 }
        return nil
    }
}
