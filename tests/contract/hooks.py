"""Schemathesis hooks of the contract check (run-schemathesis.sh loads this
module through SCHEMATHESIS_HOOKS).

Two values a client never makes up, so that the generated requests reach the
API's own logic instead of being refused for a reason no schema can state:

* Idempotency-Key: a real client sends a new key for each new attempt. The
  fuzzer draws short keys ("0", "!") again and again, and a key already used
  with another body is refused by design (422 idempotency_key_reused). A key
  that fits the header's schema is replaced by a fresh UUID; one that does not
  (a negative case) is kept, so the server must still refuse it.
* cursor: an opaque token only a list hands out (its next_cursor). One that
  fits the parameter's schema but was never handed out is refused (422); such
  a cursor is dropped. Cursors that do not fit the schema are kept (negative
  cases). The suites follow real cursors (tests/tests/lists.rs).
"""

import re
import uuid

import schemathesis

KEY = re.compile(r"[!-~]{1,255}")
CURSOR = re.compile(r"[A-Za-z0-9_-]{1,512}")


def _fresh_key(headers):
    if headers:
        for name in list(headers):
            value = headers[name]
            if name.lower() == "idempotency-key" and isinstance(value, str) and KEY.fullmatch(value):
                headers[name] = str(uuid.uuid4())


def _no_made_up_cursor(query):
    if query and isinstance(query.get("cursor"), str) and CURSOR.fullmatch(query["cursor"]):
        del query["cursor"]


# In the phases that draw values (examples and fuzzing, the stateful phase).
# The coverage phase's boundary values do not pass through these hooks; a
# `before_call` hook that changed them broke Schemathesis' own check of a
# request sent without its token, so it is not used.
@schemathesis.hook
def map_headers(ctx, headers):
    _fresh_key(headers)
    return headers


@schemathesis.hook
def map_query(ctx, query):
    _no_made_up_cursor(query)
    return query
