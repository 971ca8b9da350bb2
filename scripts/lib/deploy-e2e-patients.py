"""Checks, for scripts/deploy-e2e, that every patient the load created can be read.

Usage: deploy-e2e-patients.py HTTPS_PORT CA_FILE TOKEN IDS_FILE STOPPED_AT...

Lists the clinic's patients through nginx (https://ward.example.org:PORT, on loopback, the
certificate checked against CA_FILE) and compares the load's patients, named "Restart-…", with
the ids wrk recorded from its 201 answers. Prints "recorded=N listed=N missing=N unrecorded=N"
and exits 1 if a recorded id is missing, or if a patient nobody recorded was created other
than when wrk was stopped (STOPPED_AT, Unix times): a POST in flight then is still committed,
but wrk no longer reads its answer. One created mid-rollout without a recorded answer would
be an answer lost on the way, which wrk's counts alone could miss.
"""

import http.client
import json
import socket
import ssl
import sys
from datetime import datetime

port, ca_file, token, ids_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
stopped_at = [float(value) for value in sys.argv[5:]]
# Longest a POST took under this load is about a second; wrk stops its threads within 0.1 s.
WINDOW = 2.5
context = ssl.create_default_context(cafile=ca_file)


def connect():
    # The site's name for SNI and Host, loopback for the socket: no /etc/hosts entry needed.
    connection = http.client.HTTPSConnection("ward.example.org", port, context=context, timeout=30)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sock = context.wrap_socket(raw, server_hostname="ward.example.org")
    return connection


connection = connect()
listed = {}
cursor = None
while True:
    path = "/api/v1/patients?limit=100" + (f"&cursor={cursor}" if cursor else "")
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": "riverside"})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"deploy-e2e: GET {path} answered {response.status}: {body[:300]!r}")
    if response.will_close:
        connection.close()
        connection = connect()
    page = json.loads(body)
    for patient in page["items"]:
        if patient["family_name"].startswith("Restart-"):
            listed[patient["id"]] = datetime.fromisoformat(patient["created_at"].replace("Z", "+00:00")).timestamp()
    cursor = page.get("next_cursor")
    if not cursor:
        break

with open(ids_file) as file:
    recorded = [line.strip() for line in file if line.strip()]
missing = [patient for patient in recorded if patient not in listed]
unrecorded = set(listed) - set(recorded)
mid_run = sorted((listed[patient], patient) for patient in unrecorded
                 if not any(abs(listed[patient] - stop) <= WINDOW for stop in stopped_at))
print(f"recorded={len(recorded)} listed={len(listed)} missing={len(missing)} unrecorded={len(unrecorded)}")
if missing:
    print("deploy-e2e: patients created under load and not found: " + ", ".join(missing[:10]), file=sys.stderr)
if mid_run:
    print("deploy-e2e: patients created while the load ran whose answer wrk never got: "
          + ", ".join(f"{patient} at {datetime.fromtimestamp(at).isoformat()}" for at, patient in mid_run[:10]), file=sys.stderr)
if missing or mid_run:
    sys.exit(1)
