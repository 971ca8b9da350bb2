"""Prints the distinct failures of a schemathesis run from its NDJSON report, grouped by
operation, failure code and response status, each with a count and the shortest reproducing
curl (the bearer token shown as $TOKEN). Usage: summarize.py REPORT.ndjson"""

import base64
import json
import shlex
import sys
from collections import defaultdict


def curl(request):
    parts = ["curl", "-X", request["method"]]
    for name, values in sorted(request.get("headers", {}).items()):
        if name.lower() in ("user-agent", "x-schemathesis-testcaseid", "accept", "accept-encoding", "connection", "content-length"):
            continue
        for value in values:
            if name.lower() == "authorization" and value == "[Filtered]":
                value = "Bearer $TOKEN"
            parts += ["-H", f"{name}: {value}"]
    body = request.get("body")
    if isinstance(body, dict) and "$base64" in body:
        raw = base64.b64decode(body["$base64"])
        if raw:
            parts += ["--data-binary", raw.decode("utf-8", "backslashreplace")]
    parts.append(request["uri"])
    return " ".join(shlex.quote(part) if not part.startswith("Bearer $") else f'"{part}"' for part in parts).replace(
        "'Authorization: Bearer $TOKEN'", '"Authorization: Bearer $TOKEN"')


groups = defaultdict(list)
for line in open(sys.argv[1], encoding="utf-8"):
    event = json.loads(line)
    finished = event.get("ScenarioFinished")
    if not finished:
        continue
    recorder = finished["recorder"]
    for case_id, results in recorder.get("checks", {}).items():
        for result in results:
            if result.get("status") != "failure":
                continue
            failure = result["failure_info"]["failure"]
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            response = interaction.get("response") or {}
            request = interaction.get("request")
            operation = failure.get("operation") or recorder["label"]
            key = (operation, failure.get("code") or failure["type"], failure["title"], response.get("status_code"))
            groups[key].append((finished["phase"], request, failure.get("message", "")))

print(f"{len(groups)} distinct failures (operation, code, status):")
for (operation, code, title, status), items in sorted(groups.items()):
    phases = ",".join(sorted({phase for phase, _, _ in items}))
    print(f"- {operation} | {code} {title} | status {status} | {len(items)}x ({phases})")
    commands = [curl(request) for _, request, _ in items if request]
    if commands:
        print("    " + min(commands, key=len))
    message = items[0][2].strip().splitlines()
    if message:
        print("    " + " / ".join(message[:3])[:300])
