#!/usr/bin/env python3
"""A real S3-compatible server on loopback for Ward's tests and benchmarks: moto's standalone
server with request authentication on, so every request's SigV4 signature is checked against
an IAM user's secret (moto's INITIAL_NO_AUTH_ACTION_COUNT: the few set-up calls below go
unauthenticated, every later one must be signed).

Creates the user, its access key and a bucket, then prints one line:
    port <port> key <access key id> secret <secret access key> bucket <bucket>
and serves until its standard input closes.

Usage: s3-server.py [--port N] [--bucket NAME]
"""
import argparse
import os
import socket
import sys

# Four unauthenticated actions: create the user, attach its policy, create its key, and the
# bucket (made with the key, but counted before authentication starts).
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"

from urllib.parse import quote, unquote, urlsplit, urlunsplit  # noqa: E402

import boto3  # noqa: E402
from moto.iam import access_control  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


# moto 5 checks a signature against the request's URL as werkzeug decoded it, so a query value
# holding "/" (a listing's prefix) is canonicalised as "/" where S3 (and every SDK) signs
# "%2F": no client can list by such a prefix. Re-encode the query values as S3 does before the
# check; the signature is still computed and compared by moto.
_create_aws_request = access_control.S3IAMRequest._create_aws_request


def _create_canonical_aws_request(self):
    request = _create_aws_request(self)
    parts = urlsplit(request.url)
    if parts.query:
        pairs = [pair.partition("=") for pair in parts.query.split("&")]
        query = "&".join(f"{quote(unquote(k), safe='-_.~')}={quote(unquote(v), safe='-_.~')}" for k, _, v in pairs)
        request.url = urlunsplit(parts._replace(query=query))
    return request


access_control.S3IAMRequest._create_aws_request = _create_canonical_aws_request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", default="ward-documents")
    args = parser.parse_args()
    port = args.port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    setup = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="ward")
    iam.put_user_policy(UserName="ward", PolicyName="documents", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'))
    key = iam.create_access_key(UserName="ward")["AccessKey"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    s3.create_bucket(Bucket=args.bucket)
    print(f"port {port} key {key['AccessKeyId']} secret {key['SecretAccessKey']} bucket {args.bucket}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
