#!/usr/bin/env python3
"""Signs a webhook payload as Stripe does, with the official `stripe` library (an
implementation independent of Ward's): prints the Stripe-Signature header for the payload
read from standard input, one `v1` per secret given, at the given Unix time, after checking
it with the library's own verifier.

Usage: stripe-sign.py TIMESTAMP SECRET [SECRET…] < payload
"""
import sys

import stripe


def main():
    timestamp = int(sys.argv[1])
    secrets = sys.argv[2:]
    payload = sys.stdin.buffer.read().decode("utf-8")
    signatures = [stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret) for secret in secrets]
    header = f"t={timestamp}," + ",".join(f"v1={signature}" for signature in signatures)
    # The library accepts it for each secret (no tolerance: the time may be deliberately old).
    for secret in secrets:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    print(header)


if __name__ == "__main__":
    main()
