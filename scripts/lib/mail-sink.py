#!/usr/bin/env python3
"""A real SMTP server for Ward's tests (aiosmtpd): STARTTLS with the given certificate, AUTH
(PLAIN and LOGIN) required after TLS, and each accepted message written whole to --maildir as
<n>.eml. Recipients choose the server's answer, so one server serves every case:

  tempfail-…@…   451 at RCPT TO the first time the address is seen, then accepted
  reject-…@…     550 5.1.1 at RCPT TO, always (a hard bounce)
  anything else  accepted

With --implicit-tls the server speaks TLS from the first byte (as on port 465) instead of
offering STARTTLS; with --login-only it offers AUTH LOGIN and not PLAIN.

Prints "port <n>" once listening; exits when its standard input closes (the test process ended).
"""
import argparse
import os
import ssl
import sys
import threading
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd 1.4 logs a warning on every AUTH about an attribute of its own it still sets.
logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())


class Sink:
    def __init__(self, maildir):
        self.maildir = maildir
        self.seen = set()
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        if local.startswith("tempfail"):
            with self.lock:
                first = address.lower() not in self.seen
                self.seen.add(address.lower())
            if first:
                return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            number = self.count
        partial = os.path.join(self.maildir, ".%d.partial" % number)
        with open(partial, "wb") as out:
            out.write(b"X-Sink-Mail-From: %s\r\n" % envelope.mail_from.encode())
            out.write(b"X-Sink-Rcpt-To: %s\r\n" % ",".join(envelope.rcpt_tos).encode())
            out.write(envelope.original_content)
        os.rename(partial, os.path.join(self.maildir, "%d.eml" % number))
        return "250 2.0.0 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", default="ward")
    parser.add_argument("--password", default="sink-password")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--login-only", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.maildir, exist_ok=True)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
        return AuthResult(success=ok)

    port = args.port
    if port == 0:
        import socket
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
    extra = {"auth_exclude_mechanism": ["PLAIN"]} if args.login_only else {}
    if args.implicit_tls:
        controller = Controller(
            Sink(args.maildir), hostname="127.0.0.1", port=port, ssl_context=context,
            # aiosmtpd counts only STARTTLS as encryption; here the whole connection is TLS.
            authenticator=authenticate, auth_required=True, auth_require_tls=False, server_hostname="localhost", **extra,
        )
    else:
        controller = Controller(
            Sink(args.maildir), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
            authenticator=authenticate, auth_required=True, auth_require_tls=True, server_hostname="localhost", **extra,
        )
    controller.start()
    print("port %d" % port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
