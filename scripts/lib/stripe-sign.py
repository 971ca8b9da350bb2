#!/usr/bin/env python3
"""Signs webhook payloads as Stripe does, with the official `stripe` library (an
implementation independent of Ward's), checking each header with the library's own verifier.

Reads a JSON list from standard input, each item {"payload": text, "timestamp": unix time,
"secrets": [signing secret, …]}, and prints a JSON list of the Stripe-Signature headers, one
`v1` per secret. One process signs a test's every payload (the library takes half a second
to import).

Usage: stripe-sign.py < requests.json
"""
import json
import sys

import stripe


def main():
    headers = []
    for item in json.load(sys.stdin):
        payload, timestamp = item["payload"], int(item["timestamp"])
        signatures = [stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret) for secret in item["secrets"]]
        header = f"t={timestamp}," + ",".join(f"v1={signature}" for signature in signatures)
        # Accepted by the library for each secret (no tolerance: the time may be old on purpose).
        for secret in item["secrets"]:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        headers.append(header)
    print(json.dumps(headers))


if __name__ == "__main__":
    main()
