#!/usr/bin/env python3
"""Looks into a bucket with boto3, as an independent S3 client: lists the objects under a
prefix and says whether any holds a given plaintext, or flips one byte of an object.

Usage:
    s3-inspect.py ENDPOINT KEY SECRET BUCKET list PREFIX NEEDLE_HEX
        prints JSON: {"keys": [...], "sizes": {key: size}, "plaintext_found": bool}
    s3-inspect.py ENDPOINT KEY SECRET BUCKET uploads PREFIX
        prints JSON: {"uploads": [keys of multipart uploads begun and neither completed nor aborted]}
    s3-inspect.py ENDPOINT KEY SECRET BUCKET corrupt OBJECT_KEY OFFSET
"""
import json
import sys

import boto3


def main():
    endpoint, key, secret, bucket, command = sys.argv[1:6]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
    if command == "list":
        prefix, needle = sys.argv[6], bytes.fromhex(sys.argv[7])
        keys, sizes, found = [], {}, False
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                keys.append(item["Key"])
                sizes[item["Key"]] = item["Size"]
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                found = found or (len(needle) > 0 and needle in body)
        print(json.dumps({"keys": keys, "sizes": sizes, "plaintext_found": found}))
    elif command == "uploads":
        prefix = sys.argv[6]
        pending = [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) if u["Key"].startswith(prefix)]
        print(json.dumps({"uploads": pending}))
    elif command == "corrupt":
        object_key, offset = sys.argv[6], int(sys.argv[7])
        body = bytearray(s3.get_object(Bucket=bucket, Key=object_key)["Body"].read())
        body[offset] ^= 0x01
        s3.put_object(Bucket=bucket, Key=object_key, Body=bytes(body))
        print(json.dumps({"corrupted": object_key, "offset": offset}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
