#!/usr/bin/env python3
"""Upload and download throughput of patient documents, and the server's resident memory
while 16 clients upload 20 MiB each at once. Prints one line per figure.

Usage: documents-load.py BASE_URL TOKEN PATIENT_ID SERVER_PID LABEL ROUNDS
"""
import http.client
import os
import sys
import threading
import time
import urllib.parse


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def request(base, method, path, token, body=None, content_type=None):
    url = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return data


def pdf(size):
    return b"%PDF-1.7\n" + os.urandom(size - 9)


def main():
    base, token, patient, pid, label, rounds = sys.argv[1:7]
    pid, rounds = int(pid), int(rounds)
    upload_path = f"/api/v1/patients/{patient}/documents?title=Bench&category=imaging"
    for size_mib in (1, 20):
        body = pdf(size_mib * 1024 * 1024)
        ids = []
        started = time.monotonic()
        for _ in range(rounds):
            import json
            ids.append(json.loads(request(base, "POST", upload_path, token, body, "application/pdf"))["id"])
        up = time.monotonic() - started
        started = time.monotonic()
        for document in ids:
            data = request(base, "GET", f"/api/v1/patients/{patient}/documents/{document}/content", token)
            assert len(data) == len(body)
        down = time.monotonic() - started
        total = rounds * size_mib
        print(f"{label} {size_mib:>2} MiB x{rounds}: upload {total / up:6.1f} MiB/s ({up / rounds * 1000:6.0f} ms each), "
              f"download {total / down:6.1f} MiB/s ({down / rounds * 1000:6.0f} ms each)", flush=True)

    # 16 concurrent 20 MiB uploads, resident memory sampled throughout.
    body = pdf(20 * 1024 * 1024)
    baseline = rss_kb(pid)
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    errors = []

    def upload():
        try:
            request(base, "POST", upload_path, token, body, "application/pdf")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(str(error))

    started = time.monotonic()
    clients = [threading.Thread(target=upload) for _ in range(16)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    print(f"{label} 16 concurrent 20 MiB uploads: {16 * 20 / elapsed:6.1f} MiB/s in {elapsed:.1f} s, {len(errors)} failed; "
          f"resident memory {baseline // 1024} MiB before, peak {peak[0] // 1024} MiB (growth {(peak[0] - baseline) // 1024} MiB)", flush=True)
    if errors:
        print(f"{label} errors: {errors[:3]}", flush=True)


if __name__ == "__main__":
    main()
