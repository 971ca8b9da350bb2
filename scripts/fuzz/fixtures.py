"""Makes the API-side fixtures of a fuzzing run and prints them as shell assignments.

Usage: fixtures.py BASE_URL TENANT ADMIN_EMAIL PLATFORM_EMAIL PASSWORD LOGOUT_SESSIONS
(scripts/fuzz-api runs it once `ward serve` is ready). The tenant, its tenant_admin and the
control-plane administrator already exist (made with the ward CLI); this logs them in and adds
one of each clinical record through the API, so that list, read and change operations meet
real rows (and their response schemas are checked on them), and the stateful phase has ids to
follow.
"""

import json
import shlex
import sys
import urllib.error
import urllib.request

base, tenant, admin_email, platform_email, password, logout_sessions = sys.argv[1:7]


def call(method, path, body=None, token=None, headers=None, expect=(200, 201)):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Tenant-ID", tenant)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text, response_headers = response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        status, text, response_headers = error.code, error.read().decode(), error.headers
    if status not in expect:
        sys.exit(f"fixtures: {method} {path} answered {status}: {text}")
    return (json.loads(text) if text else None), response_headers


def login():
    grant, _ = call("POST", "/api/v1/auth/login", {"email": admin_email, "password": password})
    return grant["access_token"]


token = login()
platform, _ = call("POST", "/platform/v1/auth/login", {"email": platform_email, "password": password})
# Sessions for POST /api/v1/auth/logout to end (see hooks.py); logins count against the
# per-address rate limit (30 a minute), so only a few.
logout_tokens = [login() for _ in range(int(logout_sessions))]

status, _ = call("GET", "/api/v1/auth/status", token=token)
admin_id = status["user"]["id"] if isinstance(status.get("user"), dict) else status["user_id"]
spare, _ = call("POST", "/api/v1/users", {"email": "spare@fuzz.example", "name": "Spare User", "password": "copper-Kettle-meadow-41",
                                          "roles": ["doctor"]}, token=token)
call("POST", "/api/v1/users", {"email": "nurse@fuzz.example", "name": "Night Nurse", "password": "silver-Birch-orchard-58",
                               "roles": ["nurse"]}, token=token)
call("POST", "/api/v1/roles", {"name": "ward_clerk", "description": "Reads patients", "permissions": ["patients:read"]}, token=token)

practitioner, _ = call("POST", "/api/v1/practitioners", {"name": "Dr Ada Fuzz", "specialty": "general practice", "licence_number": "GP-1",
                                                         "email": "ada@fuzz.example"}, token=token)
patient, _ = call("POST", "/api/v1/patients", {"given_name": "Zoë", "family_name": "Fuzzington", "birth_date": "1980-02-29", "sex": "female",
                                               "phone": "+33 1 23 45 67 89", "email": "zoe@fuzz.example", "address": "1 rue du Test",
                                               "national_id": "1800229000001", "emergency_contact": "Max Fuzzington",
                                               "metadata": {"source": "fuzz"}}, token=token)
second, _ = call("POST", "/api/v1/patients", {"given_name": "Jon", "family_name": "Doe", "mrn": "FUZZ-2"}, token=token)
call("POST", "/api/v1/appointments", {"patient_id": patient["id"], "practitioner_id": practitioner["id"], "start": "2030-01-07T09:00:00Z",
                                      "end": "2030-01-07T09:30:00Z", "reason": "check-up"}, token=token)
medications, _ = call("GET", "/api/v1/medications?limit=1", token=token)
medication = (medications["items"] if isinstance(medications, dict) else medications)[0]
call("POST", "/api/v1/prescriptions", {"patient_id": patient["id"], "items": [
    {"medication_id": medication["id"], "dose": "500 mg", "route": "oral", "frequency": "twice daily", "duration_days": 5, "quantity": 10,
     "instructions": "with food"}]}, token=token)
call("POST", "/api/v1/auth/break-glass", {"patient_id": second["id"], "reason": "fuzzing fixture: emergency access"}, token=token)

for name, value in {
    "WARD_FUZZ_TENANT_TOKEN": token,
    "WARD_FUZZ_PLATFORM_TOKEN": platform["access_token"],
    "WARD_FUZZ_LOGOUT_TOKENS": ",".join(logout_tokens),
    "WARD_FUZZ_ADMIN_ID": admin_id,
    "WARD_FUZZ_SPARE_USER_ID": spare["id"],
}.items():
    print(f"export {name}={shlex.quote(value)}")
