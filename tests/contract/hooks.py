"""Schemathesis hooks of the contract check (run-schemathesis.sh loads this
module through SCHEMATHESIS_HOOKS).

Values a client never makes up, so that the generated requests reach the
API's own logic instead of being refused for a reason no schema can state:

* Idempotency-Key: a real client sends a new key for each new attempt. The
  fuzzer draws short keys ("0", "!") again and again, and a key already used
  with another body is refused by design (422 idempotency_key_reused). A key
  that fits the header's schema is replaced by a fresh UUID; one that does not
  (a negative case) is kept, so the server must still refuse it.
* If-Match / If-None-Match: entity tags come from an ETag the server sent;
  a made-up one is stale (412) or never matches. They are dropped.
* real ids: the ones seeded for the purpose (POOLED below).
* cursor: an opaque token only a list hands out (its next_cursor). One that
  fits the parameter's schema but was never handed out is refused (422); such
  a cursor is dropped. Cursors that do not fit the schema are kept (negative
  cases). The suites follow real cursors (tests/tests/lists.rs).
"""

import json
import os
import re
import uuid

import schemathesis

KEY = re.compile(r"[!-~]{1,255}")
CURSOR = re.compile(r"[A-Za-z0-9_-]{1,512}")


def _client_headers(headers):
    if headers:
        for name in list(headers):
            value = headers[name]
            if name.lower() == "idempotency-key" and isinstance(value, str) and KEY.fullmatch(value):
                headers[name] = str(uuid.uuid4())
            # An entity tag comes from a read (ETag); a made-up one is a
            # stale one, answered 412 by design (tests/tests/retries.rs).
            elif name.lower() in ("if-match", "if-none-match"):
                del headers[name]


def _no_made_up_cursor(query):
    if query and isinstance(query.get("cursor"), str) and CURSOR.fullmatch(query["cursor"]):
        del query["cursor"]


# In the phases that draw values (examples and fuzzing, the stateful phase).
@schemathesis.hook
def map_headers(ctx, headers):
    _client_headers(headers)
    return headers


@schemathesis.hook
def map_query(ctx, query):
    _no_made_up_cursor(query)
    return query


# Real ids a client would know, for the positive cases of the operations
# that need them (run-schemathesis.sh seeds them and passes them in
# KH_POOLS as {name: [values]}). The phases that draw values take most of
# theirs from the dictionaries in schemathesis.toml and from links; the
# examples and coverage phases use neither, so without these every one of
# their cases names a made-up asset (404) or a one-time resource already used.
# (location, name, pool, how): "cycle" reuses the values in turn, "take" uses
# each once (a transfer or an addition that then answers 409), and "all"
# applies in every phase rather than only where no dictionary or link reaches.
POOLED = {
    "POST /api/v1/assets/{asset_id}/records": [("path", "asset_id", "own_assets", "cycle")],
    "GET /api/v1/assets/{asset_id}/records": [("path", "asset_id", "own_assets", "cycle")],
    "GET /api/v1/assets/{asset_id}/records/export": [("path", "asset_id", "own_assets", "cycle")],
    "POST /api/v1/assets/{asset_id}/photos": [("path", "asset_id", "own_assets", "cycle")],
    "POST /api/v1/assets/{asset_id}/files": [("path", "asset_id", "own_assets", "cycle")],
    "GET /api/v1/assets/{asset_id}/files": [("path", "asset_id", "own_assets", "cycle")],
    "POST /api/v1/assets/{asset_id}/invitations": [("path", "asset_id", "invite_assets", "take")],
    "POST /api/v1/asset-invitations": [("body", "asset_id", "own_assets", "cycle")],
    "GET /api/v1/access/explain": [
        ("query", "resource_type", "asset_type", "cycle all"),
        ("query", "resource_id", "shared_assets", "cycle all"),
    ],
    "POST /api/v1/assets/{asset_id}/collaborators": [
        ("path", "asset_id", "plain_assets", "take"),
    ],
    "POST /api/v1/estates/{estate_id}/invitations": [
        ("path", "estate_id", "role_estates", "cycle"),
    ],
    "POST /api/v1/estates/{estate_id}/invitations/{invitation_id}/resend": [
        ("path", "estate_id", "invitations_estate", "cycle"),
        ("path", "invitation_id", "estate_invitations", "take"),
    ],
    "POST /api/v1/estates/{estate_id}/invitations/{invitation_id}/cancel": [
        ("path", "estate_id", "invitations_estate", "cycle"),
        ("path", "invitation_id", "estate_invitations", "take"),
    ],
    "POST /api/v1/estates/{estate_id}/transfer-ownership": [
        ("path", "estate_id", "transfer_estates", "take all"),
        ("body", "user_id", "other_user", "cycle"),
    ],
    "POST /api/v1/asset-invitations/{invitation_id}/resend": [
        ("path", "invitation_id", "pending_invitations", "take"),
    ],
    "POST /api/v1/asset-invitations/{invitation_id}/cancel": [
        ("path", "invitation_id", "pending_invitations", "take"),
    ],
    "GET /api/v1/collaborators": [("query", "asset_ids", "own_assets_csv", "cycle")],
    "POST /api/v1/collaborators/add": [("body", "asset_ids", "own_asset_lists", "cycle")],
    "POST /api/v1/asset-invitations/bulk": [("body", "asset_ids", "own_asset_lists", "cycle")],
    "DELETE /api/v1/sites/{site_id}/members/{user_id}": [
        ("path", "site_id", "clear_sites", "cycle all"),
    ],
    "POST /api/v1/household/members": [("body", "username", "spare_usernames", "take all")],
    "DELETE /api/v1/me/sessions/{session_id}": [("path", "session_id", "spare_sessions", "take all")],
    "GET /api/v1/admin/users/{user_id}": [("path", "user_id", "disposable_users", "cycle all")],
    "POST /api/v1/admin/users/{user_id}/disable": [("path", "user_id", "disposable_users", "cycle all")],
    "POST /api/v1/admin/users/{user_id}/enable": [("path", "user_id", "disposable_users", "cycle all")],
    "POST /api/v1/admin/users/{user_id}/password-reset": [("path", "user_id", "disposable_users", "cycle all")],
    "POST /api/v1/admin/users/{user_id}/verification": [("path", "user_id", "disposable_users", "cycle all")],
    "GET /api/v1/estates/{estate_id}/user-search": [
        ("path", "estate_id", "member_estates", "cycle"),
        ("query", "email", "kin_emails", "cycle"),
    ],
}
POOLS = json.loads(os.environ.get("KH_POOLS") or "{}")
_turn = {}


def _from_pool(pool, how, phase):
    # A pool of one-time values may be split by phase ("name:phase"), so
    # that one phase does not use up what the next needs.
    values = POOLS.get(f"{pool}:{phase}") or POOLS.get(pool) or []
    pool = f"{pool}:{phase}" if f"{pool}:{phase}" in POOLS else pool
    if "take" in how:
        return values.pop(0) if values else None
    if not values:
        return None
    i = _turn.get(pool, 0)
    _turn[pool] = i + 1
    return values[i % len(values)]


def _pooled(case, phase):
    for location, name, pool, how in POOLED.get(case.operation.label, []):
        if "all" not in how and phase not in ("examples", "coverage"):
            continue
        if location == "path":
            container = case.path_parameters
        elif location == "query":
            if case.query is None:
                case.query = {}
            container = case.query
        else:
            container = case.body
        if not isinstance(container, dict):
            continue
        value = _from_pool(pool, how, phase)
        if value is not None:
            container[name] = value


# Every positive case, in every phase (the map_* hooks above do not see the
# examples' and the coverage phase's values, which send one key with every
# body they try): a change makes Schemathesis validate the case again, and a
# negative case (such as one sent without its token) that turned positive
# would get its missing header back, so negative cases are left alone.
# logOut ends the session of the token it is sent with: never the contract
# user's, which the rest of the run needs, whatever the case's mode.
LOGOUT = "POST /api/v1/auth/logout"
RUN_TOKEN = "Bearer " + os.environ.get("KH_TOKEN", "")
LOGOUT_TOKEN = "Bearer " + os.environ.get("KH_LOGOUT_TOKEN", "")


RUN_SESSION = os.environ.get("KH_SESSION_ID", "")
REVOKE = "DELETE /api/v1/me/sessions/{session_id}"
# The administrators' operations run as root, and never on the contract
# user's account (disabling it would sign the rest of the run out).
ADMIN = "/api/v1/admin/"
RUN_USER = os.environ.get("KH_USER_ID", "")
ROOT_TOKEN = "Bearer " + os.environ.get("KH_ROOT_TOKEN", "")


def _root_for_admin(case):
    if not case.operation.path.startswith(ADMIN):
        return
    params = case.path_parameters or {}
    if params.get("user_id") == RUN_USER:
        params["user_id"] = _from_pool("disposable_users", "cycle", "any") or str(uuid.uuid4())
    for name in list(case.headers or {}):
        if name.lower() == "authorization" and case.headers[name] == RUN_TOKEN:
            case.headers[name] = ROOT_TOKEN


def _spare_session_for_logout(case):
    # Nor may revokeSession end the run's session, whose id the fuzzer saw
    # in listMySessions: another id takes its place.
    params = case.path_parameters or {}
    if case.operation.label == REVOKE and params.get("session_id") == RUN_SESSION:
        params["session_id"] = _from_pool("spare_sessions", "take", "any") or str(uuid.uuid4())
    if case.operation.label != LOGOUT or not case.headers:
        return
    for name in list(case.headers):
        if name.lower() == "authorization" and case.headers[name] == RUN_TOKEN:
            case.headers[name] = LOGOUT_TOKEN


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _spare_session_for_logout(case)
    _root_for_admin(case)
    meta = getattr(case, "meta", None)
    if meta is None or meta.generation.mode.is_negative:
        return
    _client_headers(case.headers)
    _no_made_up_cursor(case.query)
    _pooled(case, str(meta.phase.name))
