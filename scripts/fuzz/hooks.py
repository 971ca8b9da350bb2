"""Schemathesis hooks for scripts/fuzz-api: keep the fixtures the run depends on alive.

The fuzzer acts as the fixture tenant's tenant_admin and as a control-plane administrator. With
the stateful phase's link inference it can learn the administrator's user id (GET /api/v1/users)
and the fixture tenant's slug (GET /platform/v1/tenants) and feed them to operations that would
end the run's own access: disabling the administrator, revoking its role, issuing it a password
reset (then used at /api/v1/auth/password-reset), or suspending, deleting or retrying the tenant.
Those calls are redirected to sacrificial fixtures of the same kind (a spare user, a spare
tenant), so the operations are still exercised with real, existing resources.

POST /api/v1/auth/logout would end the session whose token every other request uses, so it gets
sessions of its own: each POST spends one token of WARD_FUZZ_LOGOUT_TOKENS, and once they are
spent it sends the last one again (an ended session: the documented 401).

A patient's birth date may not be in the future (422): a rule no schema can state, since it
moves with the clock, and generated dates are mostly after today (years up to 9999). A valid
future date sent to register or change a patient is moved to the year 2000, same day (2000 is a
leap year, so 29 February stays valid); any other value goes as generated, so the rule still
meets malformed dates and the 422 stays tested by the suite.

Login, a reset-link request and GET /api/v1/tenant need the tenant named: by X-Tenant-ID, by the subdomain, or (login)
by the body's `tenant`. No schema can require one of a header, a host and a field, so a case
that names none (the generator leaves the optional header out) gets the fixture tenant's
X-Tenant-ID. A generated X-Tenant-ID of a slug's form names the fixture tenant instead: a
random slug names another tenant than the token's (403), which left some operations answering
nothing else; the suite tests that refusal. One not of a slug's form goes as generated (400).

Last, a workaround for the interpreter, not for Ward: CPython 3.11 keeps the AST converter's
recursion depth in state shared by all threads, so two workers parsing at once (Hypothesis
parses a module's source to describe a filter's lambda) can fail with "SystemError: AST
constructor recursion depth mismatch", which schemathesis reports as a runtime error of the
operation being generated. Parses are taken one at a time here.
"""

import ast
import datetime
import os
import re
import threading

import schemathesis

_parse = ast.parse
_parse_lock = threading.Lock()


def _serialized_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serialized_parse

TENANT = os.environ["WARD_FUZZ_TENANT"]
SPARE_TENANT = os.environ["WARD_FUZZ_SPARE_TENANT"]
ADMIN_ID = os.environ["WARD_FUZZ_ADMIN_ID"]
SPARE_USER_ID = os.environ["WARD_FUZZ_SPARE_USER_ID"]
_logout_tokens = [token for token in os.environ.get("WARD_FUZZ_LOGOUT_TOKENS", "").split(",") if token]
_last_logout_token = _logout_tokens[-1] if _logout_tokens else "ended-session"


_SLUG = re.compile(r"[a-z](?:[a-z0-9]|-(?!-)){1,38}[a-z0-9]")


def _past_birth_date(body):
    if not isinstance(body, dict) or not isinstance(body.get("birth_date"), str):
        return body
    try:
        date = datetime.date.fromisoformat(body["birth_date"])
    except ValueError:
        return body
    if len(body["birth_date"]) != 10 or date <= datetime.date.today():
        return body
    return {**body, "birth_date": date.replace(year=2000).isoformat()}


@schemathesis.hook
def before_call(context, case, kwargs):
    global _last_logout_token
    path = case.operation.path
    method = case.method.upper()
    parameters = case.path_parameters or {}
    if path in ("/api/v1/patients", "/api/v1/patients/{id}") and method in ("POST", "PATCH"):
        case.body = _past_birth_date(case.body)
    if path.startswith("/api/v1/"):
        headers = dict(case.headers or {})
        named = [name for name in headers if name.lower() == "x-tenant-id"]
        for name in named:
            if isinstance(headers[name], str) and _SLUG.fullmatch(headers[name]):
                headers[name] = TENANT
        if path in ("/api/v1/auth/login", "/api/v1/auth/password-reset-request", "/api/v1/tenant") and not named and not (isinstance(case.body, dict) and "tenant" in case.body):
            headers["X-Tenant-ID"] = TENANT
        case.headers = headers
    if path.startswith("/api/v1/users/{id}") and method != "GET" and parameters.get("id") == ADMIN_ID:
        case.path_parameters = {**parameters, "id": SPARE_USER_ID}
    elif path.startswith("/platform/v1/tenants/{slug}") and method != "GET" and parameters.get("slug") == TENANT:
        case.path_parameters = {**parameters, "slug": SPARE_TENANT}
    elif path == "/api/v1/auth/logout":
        # Only a POST ends a session: the coverage phase's probes with other methods (405)
        # reuse the current token rather than spend one.
        if method == "POST" and _logout_tokens:
            _last_logout_token = _logout_tokens.pop(0)
        headers = dict(case.headers or {})
        headers["Authorization"] = f"Bearer {_last_logout_token}"
        case.headers = headers
