#!/usr/bin/env python3
"""Reads a received message with Python's email package (an independent MIME parser) and
prints what Ward's tests check, as JSON: decoded headers, each part's type and decoded text,
each attachment's name, type, size and SHA-256, and whether a DKIM signature verifies against
the public key given with --dkim-key (dkimpy, with the key served from memory)."""
import argparse
import email
import email.policy
import hashlib
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--dkim-key", help="PEM public key published for the signature's selector")
    parser.add_argument("--save", help="directory to write each attachment to, as <n>-<filename>")
    args = parser.parse_args()
    raw = open(args.path, "rb").read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    out = {"headers": {name: str(value) for name, value in message.items()}, "parts": [], "attachments": [],
           "defects": [str(d) for d in message.defects]}
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True)
            entry = {"filename": part.get_filename(), "type": part.get_content_type(), "size": len(data),
                     "sha256": hashlib.sha256(data).hexdigest()}
            if args.save:
                import os
                path = os.path.join(args.save, "%d-%s" % (len(out["attachments"]), os.path.basename(part.get_filename() or "file")))
                with open(path, "wb") as saved:
                    saved.write(data)
                entry["saved"] = path
            out["attachments"].append(entry)
        else:
            out["parts"].append({"type": part.get_content_type(), "text": part.get_content()})
    if args.dkim_key:
        import dkim
        public = open(args.dkim_key).read()
        body = "".join(line for line in public.splitlines() if "-----" not in line)
        record = ("v=DKIM1; k=rsa; p=" + body).encode()
        # Strip the sink's own trace headers: they were added after signing, like a relay's Received.
        signed = b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"X-Sink-"))
        out["dkim_valid"] = dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
