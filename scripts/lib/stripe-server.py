#!/usr/bin/env python3
"""A Stripe stand-in on loopback for Ward's tests: localstripe (a stateful fake of Stripe's
API: PaymentIntents, PaymentMethods, charges, refunds, events, and webhooks it signs and
delivers itself), in a child process on a free port.

Prints one line, `port <port>`, once the server answers, and serves until standard input
closes.

Usage: stripe-server.py
"""
import ctypes
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """In the child: SIGTERM when this script ends, however it ends (Linux prctl)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/balance", timeout=1).read()
            break
        except urllib.error.HTTPError:
            break  # it answers (an unauthenticated call is refused): it is up
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                print("failed: localstripe did not start (pip install localstripe)", flush=True)
                sys.exit(1)
            time.sleep(0.2)
    print(f"port {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
