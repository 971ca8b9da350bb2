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
"""

import os

import schemathesis

TENANT = os.environ["WARD_FUZZ_TENANT"]
SPARE_TENANT = os.environ["WARD_FUZZ_SPARE_TENANT"]
ADMIN_ID = os.environ["WARD_FUZZ_ADMIN_ID"]
SPARE_USER_ID = os.environ["WARD_FUZZ_SPARE_USER_ID"]
_logout_tokens = [token for token in os.environ.get("WARD_FUZZ_LOGOUT_TOKENS", "").split(",") if token]
_last_logout_token = _logout_tokens[-1] if _logout_tokens else "ended-session"


@schemathesis.hook
def before_call(context, case, kwargs):
    global _last_logout_token
    path = case.operation.path
    method = case.method.upper()
    parameters = case.path_parameters or {}
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
