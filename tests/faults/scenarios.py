#!/usr/bin/env python3
"""Keyholder under faults: one scenario per run.

    python3 tests/faults/scenarios.py pg-outage            # PostgreSQL down 10 s under 32 writers
    python3 tests/faults/scenarios.py smtp-outage [--db sqlite|postgres]
    python3 tests/faults/scenarios.py kill9 --db sqlite|postgres
    python3 tests/faults/scenarios.py sigterm [--db sqlite|postgres]

Exit status 0 when every check holds, 1 with the reason otherwise. See
README.md beside this file for what each scenario does and its settings.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid

import requests

from harness import (
    DB_TIMEOUT, MAX_LATENCY, SHARED_PG_URL, Api, Call, Failure, Load, PgCluster, PgDb, Server, SqliteDb,
    Tally, User, Workdir, examples, invariant_violations, log, mail_token_from_dir, on_cleanup,
    present_ids, request, run_scenario, shared_pg_up,
)


def env_num(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


CLIENTS = int(env_num("FAULTS_CLIENTS", 32))
RUN = uuid.uuid4().hex[:6]  # makes every name and email of this run unique


def pg_database(name: str) -> PgDb:
    """A throw-away database: on the shared server when it answers (unless
    FAULTS_PRIVATE_PG=1), else on a private cluster started for the purpose."""
    if os.environ.get("FAULTS_PRIVATE_PG") != "1" and shared_pg_up():
        log(f"using the shared PostgreSQL ({SHARED_PG_URL.rsplit('@', 1)[-1]}) for a throw-away database")
        return PgDb(SHARED_PG_URL)
    cluster = PgCluster(name)
    cluster.start()
    log(f"started a private PostgreSQL cluster on 127.0.0.1:{cluster.port} ({cluster.dir})")
    return PgDb(cluster.admin_url)


def database(kind: str, wd: Workdir, name: str):
    if kind == "sqlite":
        return SqliteDb(wd / "keyholder.db")
    return pg_database(name)


def asset_writer(base: str, users: list[User], prefix: str):
    """A client step that creates one asset with a unique name."""

    def step(i, s, n):
        u = users[i % len(users)]
        name = f"{prefix}-{RUN}-{i}-{n}"
        return request(s, "POST", f"{base}/api/v1/assets", "create_asset", token=u.token,
                       json_body={"name": name}, key=name)

    return step


def check_answers(calls: list[Call], allowed_503: bool) -> list[str]:
    """Every answer 2xx, or 503 with Retry-After when allowed; every request
    answered within MAX_LATENCY. Returns the problems found."""
    problems = []
    bad_status = [c for c in calls if c.status is not None and not c.ok
                  and not (allowed_503 and c.status == 503)]
    if bad_status:
        problems.append(f"{len(bad_status)} answers other than 2xx{' or 503' if allowed_503 else ''}, e.g.:\n"
                        + examples(calls, lambda c: c in bad_status))
    no_ra = [c for c in calls if c.status == 503 and not c.retry_after]
    if no_ra:
        problems.append(f"{len(no_ra)} answers 503 without Retry-After, e.g.:\n"
                        + examples(calls, lambda c: c in no_ra))
    unanswered = [c for c in calls if c.status is None]
    if unanswered:
        problems.append(f"{len(unanswered)} requests got no answer (hang past {MAX_LATENCY:.0f} s "
                        "or a cut connection), e.g.:\n" + examples(calls, lambda c: c.status is None))
    slow = [c for c in calls if c.latency > MAX_LATENCY and c.status is not None]
    if slow:
        problems.append(f"{len(slow)} requests took longer than {MAX_LATENCY:.0f} s, e.g.:\n"
                        + examples(calls, lambda c: c in slow))
    return problems


def fail_with_log(server: Server, problems: list[str]) -> None:
    if problems:
        raise Failure("\n  ".join(problems) + f"\n--- server log ({server.logfile}): warnings, "
                      f"errors and 5xx ---\n{server.problems_in_log()}")


def check_written(db, acked: dict[str, str], table: str, what: str) -> list[str]:
    """Every acknowledged id (id -> key) is in `table`."""
    found = present_ids(db, table, list(acked))
    missing = [(i, k) for i, k in acked.items() if i not in found]
    if missing:
        shown = ", ".join(f"{i} ({k})" for i, k in missing[:10])
        return [f"{len(missing)} of {len(acked)} {what} that answered 2xx are not in the database: {shown}"]
    return []


def committed_without_2xx(db, calls: list[Call], table: str, column: str) -> int:
    """How many writes that got no 2xx (503 or no answer) were committed all the same."""
    keys = [c.key for c in calls if not c.ok and c.key]
    if not keys:
        return 0
    n = 0
    for i in range(0, len(keys), 500):
        chunk = ",".join("'" + k + "'" for k in keys[i:i + 500])
        n += db.scalar(f"SELECT count(*) FROM {table} WHERE {column} IN ({chunk})")
    return n


# ----------------------------------------------------------------------------
# 1. PostgreSQL stopped for 10 s and restarted while 32 clients write
# ----------------------------------------------------------------------------
def pg_outage() -> list[str]:
    outage = env_num("FAULTS_PG_OUTAGE", 10)
    warmup = env_num("FAULTS_WARMUP", 5)
    recovery_deadline = env_num("FAULTS_RECOVERY_DEADLINE", 30)
    settle = env_num("FAULTS_SETTLE", 10)

    wd = Workdir("pg-outage")
    cluster = PgCluster("pg-outage")
    cluster.start()
    log(f"private PostgreSQL cluster on 127.0.0.1:{cluster.port} ({cluster.dir})")
    db = PgDb(cluster.admin_url)
    server = Server(wd, db)
    server.start()
    pid = server.pid
    log(f"server pid {pid} on {server.base}, log {server.logfile}")
    api = Api(server.base)
    users = [api.register("pgout") for _ in range(4)]

    load = Load(CLIENTS, asset_writer(server.base, users, "pgout"), "writer").start()
    log(f"{CLIENTS} clients creating assets; PostgreSQL stops in {warmup:.0f} s")
    time.sleep(warmup)

    t_stop = time.time()
    cluster.stop("fast")
    t_down = time.time()
    log(f"PostgreSQL stopped (pg_ctl stop -m fast took {t_down - t_stop:.1f} s); down for {outage:.0f} s")
    polls: list[tuple[float, object]] = []  # (when answered, status)
    polling = threading.Event()

    def poll_ready():  # what a load balancer would see while PostgreSQL is down
        while not polling.is_set():
            try:
                st = requests.get(f"{server.base}/health/ready", timeout=MAX_LATENCY).status_code
            except requests.RequestException as e:
                st = type(e).__name__
            polls.append((time.time(), st))
            polling.wait(1)

    poller = threading.Thread(target=poll_ready, daemon=True)
    poller.start()
    time.sleep(max(0.0, t_down + outage - time.time()))
    polling.set()
    cluster.start()
    t_up = time.time()
    log(f"PostgreSQL started again ({t_up - t_stop:.1f} s after the stop began)")
    ready_during: dict = {}
    for at, st in polls:
        if at < t_up:  # a poll answered once PostgreSQL was back does not count
            ready_during[st] = ready_during.get(st, 0) + 1

    # Recovery: a write that began after PostgreSQL was back answers 2xx.
    recovered = None
    while time.time() < t_up + recovery_deadline and not load.crashes:
        done = [c for c in list(load.calls) if c.start >= t_up and c.ok]
        if done:
            recovered = min(c.end for c in done)
            break
        time.sleep(0.2)
    if recovered is not None:
        time.sleep(settle)
    stuck = load.stop()
    t_end = time.time()
    calls = load.calls

    problems = []
    if load.crashes:
        problems.append("the load generator broke: " + "; ".join(load.crashes[:3]))
    if stuck:
        problems.append(f"{len(stuck)} clients still waiting for an answer {MAX_LATENCY + 10:.0f} s "
                        f"after the load stopped (a hang): {', '.join(stuck[:5])}")
    if not server.alive() or server.pid != pid or server.starts != 1:
        problems.append(f"the server did not stay up (alive={server.alive()}, exit "
                        f"code {server.proc.returncode})")
    problems += check_answers(calls, allowed_503=True)
    if recovered is None:
        problems.append(f"no write answered 2xx within {recovery_deadline:.0f} s of PostgreSQL's return")
    else:
        late = [c for c in calls if c.start >= recovered + 5 and not c.ok]
        if late:
            problems.append(f"{len(late)} writes failed more than 5 s after the service recovered, e.g.:\n"
                            + examples(calls, lambda c: c in late))
    try:
        ready_after = requests.get(f"{server.base}/health/ready", timeout=10).status_code
    except requests.RequestException as e:
        ready_after = type(e).__name__
    if ready_after != 200:
        problems.append(f"/health/ready answers {ready_after} after the recovery")
    if 200 in ready_during:
        problems.append(f"/health/ready answered 200 while PostgreSQL was down: {ready_during}")
    during = [c for c in calls if c.end >= t_stop and c.start <= t_up]
    if not any(c.status == 503 for c in during):
        problems.append("no request answered 503 while PostgreSQL was down: the outage was not felt")
    fail_with_log(server, problems)

    acked = {c.ident: c.key for c in calls if c.ok and c.op == "create_asset"}
    problems += check_written(db, acked, "assets", "created assets")
    bad = invariant_violations(db)
    if bad:
        problems.append(f"half-written changes: {bad}")
    fail_with_log(server, problems)
    extra = committed_without_2xx(db, calls, "assets", "name")

    t = Tally.of(calls)
    td = Tally.of(during)
    # What an operator reads in the log for the outage: one access line per
    # failed request, and the pool's reconnection errors throttled.
    levels: dict = {}
    for line in server.logfile.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("ERROR", "WARN"):
            kind = "other"
            if entry.get("message") == "request":
                # The readiness poller's own 503s are not part of the load.
                kind = "probe" if entry.get("route") == "/health/ready" else "access"
            key = f"{entry['level']} {kind}"
            levels[key] = levels.get(key, 0) + 1
    if levels.get("ERROR other", 0) > 2 + int(outage / 30):
        problems.append(f"unthrottled errors in the log: {levels}")
    if levels.get("ERROR access", 0) != t.s503 + t.s500:
        problems.append(f"not one ERROR access line per 5xx answer: {levels}, answers {t.line()}")
    fail_with_log(server, problems)
    l503 = sorted(c.latency for c in calls if c.status == 503)
    slow = sum(1 for x in l503 if x > DB_TIMEOUT + 1)
    return [
        f"all requests: {t.line()}",
        f"overlapping the outage ({t_up - t_stop:.1f} s from stop to start): {td.line()}",
        f"503 answers took {l503[0]:.2f}-{l503[-1]:.2f} s (median {l503[len(l503) // 2]:.2f} s); "
        f"{slow} of them longer than the pool timeout ({DB_TIMEOUT} s) + 1 s",
        f"/health/ready while down: {ready_during}; after: {ready_after}",
        f"log lines at WARN/ERROR: {levels} (an access line per 5xx; other errors throttled)",
        f"recovered (first 2xx of a write begun after the restart) {recovered - t_up:.1f} s after "
        f"PostgreSQL was back; load ran {t_end - recovered:.0f} s more, all 2xx",
        f"server pid {pid} never restarted; assets answered 2xx: {len(acked)}, all in the database; "
        f"writes answered 503 but committed: {extra}; invariants hold",
    ]


# ----------------------------------------------------------------------------
# 2. The SMTP server down for a minute while invitations are sent
# ----------------------------------------------------------------------------
def wait_sink_token(sink, to: str, route: str, timeout=30) -> str:
    link = re.compile(re.escape(route) + r"#token=([A-Za-z0-9_-]+)")
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in reversed(sink.snapshot()):
            if to.lower() in " ".join(m.rcpt_to).lower():
                found = link.search(m.body)
                if found:
                    return found.group(1)
        time.sleep(0.2)
    raise Failure(f"no email to {to} with a {route} link reached the SMTP sink within {timeout} s")


INVITE_LINK = "/invitations/accept#token="  # what tells an invitation email apart


def smtp_outage(kind: str) -> list[str]:
    from smtp_sink import SmtpSink

    outage = env_num("FAULTS_SMTP_OUTAGE", 60)
    count = int(env_num("FAULTS_SMTP_INVITES", 100))
    clients = int(env_num("FAULTS_SMTP_CLIENTS", 8))
    deadline_after = env_num("FAULTS_SMTP_DELIVERY_DEADLINE", max(180, 2 * outage))
    lead = 2.0  # invitations sent (and delivered) before the sink stops

    sink = SmtpSink()
    port = sink.start()
    on_cleanup(sink.close)
    log(f"SMTP sink on 127.0.0.1:{port}")
    wd = Workdir("smtp-outage")
    db = database(kind, wd, "smtp-outage")
    server = Server(wd, db, smtp_url=f"smtp://127.0.0.1:{port}")
    server.start()
    log(f"server on {server.base} ({kind}), log {server.logfile}")
    api = Api(server.base)
    inviter = api.register("smtp")
    api.verify(wait_sink_token(sink, inviter.email, "/verify-email"))
    assets = [api.create_asset(inviter) for _ in range(clients)]

    # The k-th invitation is due at t0 + k * window / count: sent over the
    # lead-in and the outage, the last ones a few seconds before the sink returns.
    window = lead + max(1.0, outage - 5)
    lock = threading.Lock()
    nxt = [0]
    t0 = time.time() + 0.5

    def invite(i, s, n):
        with lock:
            k = nxt[0]
            nxt[0] += 1
        if k >= count:
            time.sleep(0.2)
            return None
        time.sleep(max(0.0, t0 + k * window / count - time.time()))
        email = f"invitee-{RUN}-{k}@example.com"
        return request(s, "POST", f"{server.base}/api/v1/assets/{assets[k % len(assets)]}/invitations",
                       "invite", token=inviter.token, json_body={"email": email, "permission": "view"},
                       key=email)

    load = Load(clients, invite, "inviter").start()
    time.sleep(max(0.0, t0 + lead - time.time()))
    sink.stop()
    t_down = time.time()
    log(f"SMTP sink stopped (port {port} closed); invitations go on; back in {outage:.0f} s")
    time.sleep(max(0.0, t_down + outage - time.time()))
    sink.start()
    t_back = time.time()
    stuck = load.stop()
    calls = load.calls
    log(f"SMTP sink back on port {port}; {sum(c.ok for c in calls)} invitations sent; "
        f"waiting up to {deadline_after:.0f} s for their emails")

    problems = []
    if load.crashes:
        problems.append("the load generator broke: " + "; ".join(load.crashes[:3]))
    if stuck:
        problems.append(f"{len(stuck)} invitation requests hung: {', '.join(stuck[:5])}")
    problems += check_answers(calls, allowed_503=False)
    fail_with_log(server, problems)

    invited = {c.key: c.ident for c in calls if c.ok}
    during = sum(1 for c in calls if c.ok and t_down <= c.start <= t_back)

    def counts():
        per = {e: 0 for e in invited}
        stray = []
        for m in sink.snapshot():
            if INVITE_LINK not in m.body:
                continue
            for r in m.rcpt_to:
                if r.lower() in per:
                    per[r.lower()] += 1
                else:
                    stray.append(r)
        return per, stray

    end = t_back + deadline_after
    while time.time() < end:
        per, _ = counts()
        if all(v >= 1 for v in per.values()):
            break
        time.sleep(1)
    all_in = time.time()
    # Duplicates would come from rows delivered twice: look a little longer,
    # then make sure the outbox holds nothing more to deliver.
    time.sleep(env_num("FAULTS_SMTP_QUIET", 10))
    per, stray = counts()
    missing = [e for e, v in per.items() if v == 0]
    twice = {e: v for e, v in per.items() if v > 1}
    pending = db.scalar("SELECT count(*) FROM mail_outbox WHERE kind = 'invitation' AND status <> 'sent'")
    retried = db.scalar("SELECT count(*) FROM mail_outbox WHERE kind = 'invitation' AND attempts > 0")
    max_attempts = db.scalar("SELECT coalesce(max(attempts), 0) FROM mail_outbox WHERE kind = 'invitation'")
    msgs = [m for m in sink.snapshot() if INVITE_LINK in m.body]
    ids = [m.message_id for m in msgs]
    tokens = [re.search(r"#token=([A-Za-z0-9_-]+)", m.body) for m in msgs]
    after_back = [m.at - t_back for m in msgs if m.at >= t_back]

    if missing:
        problems.append(f"{len(missing)} of {len(invited)} invitation emails never arrived within "
                        f"{deadline_after:.0f} s of the SMTP server's return, e.g. {missing[:5]}")
    if twice:
        problems.append(f"{len(twice)} invitation emails arrived more than once: "
                        f"{dict(list(twice.items())[:5])}")
    if stray:
        problems.append(f"{len(stray)} invitation emails to addresses no 2xx invitation named: {stray[:5]}")
    given = [i for i in ids if i]
    if len(given) != len(ids):
        problems.append(f"{len(ids) - len(given)} invitation emails without a Message-ID")
    if len(set(given)) != len(given):
        problems.append(f"repeated Message-IDs among {len(given)} invitation emails")
    if any(t is None for t in tokens) or len({t.group(1) for t in tokens if t}) != len(tokens):
        problems.append("an invitation email without its own /invitations/accept#token= link")
    if pending:
        problems.append(f"{pending} invitation emails still pending in mail_outbox")
    if during and not retried:
        problems.append("no invitation email needed a retry: the SMTP outage was not felt")
    fail_with_log(server, problems)

    t = Tally.of(calls)
    return [
        f"invitation requests: {t.line()}",
        f"invitations answered 2xx: {len(invited)} ({during} while the SMTP server was down "
        f"{t_back - t_down:.0f} s); emails delivered {len(msgs)}, each invitee exactly once, "
        f"missing 0, duplicates 0",
        f"emails that needed retries: {retried} (most attempts {max_attempts}); last email "
        f"arrived {max(after_back or [0]):.1f} s after the SMTP server returned "
        f"(all in {all_in - t_back:.1f} s); outbox pending 0",
        f"emails told apart by recipient and their /invitations/accept token; {len(given)} of "
        f"{len(msgs)} carried a Message-ID, all distinct",
    ]


# ----------------------------------------------------------------------------
# 3. kill -9 of the server mid-load
# ----------------------------------------------------------------------------
def kill9(kind: str) -> list[str]:
    run_for = env_num("FAULTS_KILL_AFTER", 8)
    wd = Workdir(f"kill9-{kind}")
    db = database(kind, wd, f"kill9-{kind}")
    server = Server(wd, db)
    server.start()
    pid = server.pid
    log(f"server pid {pid} on {server.base} ({kind}), log {server.logfile}")
    api = Api(server.base)
    users = []
    for _ in range(4):
        u = api.register("kill")
        api.verify(mail_token_from_dir(server.mail_dir, u.email, "/verify-email"))
        users.append(u)

    last_asset: dict[int, str] = {}

    def step(i, s, n):
        """Creates assets; every third step invites someone to the newest one."""
        u = users[i % len(users)]
        if n % 3 == 2 and i in last_asset:
            email = f"kill-{RUN}-{i}-{n}@example.com"
            return request(s, "POST", f"{server.base}/api/v1/assets/{last_asset[i]}/invitations",
                           "invite", token=u.token, json_body={"email": email, "permission": "edit"},
                           key=email)
        name = f"kill-{RUN}-{i}-{n}"
        c = request(s, "POST", f"{server.base}/api/v1/assets", "create_asset", token=u.token,
                    json_body={"name": name}, key=name)
        if c.ok:
            last_asset[i] = c.ident
        return c

    load = Load(CLIENTS, step, "writer").start()
    time.sleep(run_for)
    before_kill = len(load.calls)
    t_kill = time.time()
    server.kill9()
    log(f"kill -9 {pid} after {run_for:.0f} s ({before_kill} answers so far)")
    stuck = load.stop()
    calls = load.calls
    problems = []
    if load.crashes:
        problems.append("the load generator broke: " + "; ".join(load.crashes[:3]))
    if stuck:
        problems.append(f"{len(stuck)} clients hung after the kill: {', '.join(stuck[:5])}")
    answered = [c for c in calls if c.status is not None]
    problems += check_answers(answered, allowed_503=True)  # 503: overload, said so
    cut = [c for c in calls if c.status is None and c.start <= t_kill]
    refused = [c for c in calls if c.status is None and c.start > t_kill]
    early_cut = [c for c in cut if c.end < t_kill - 0.5]
    if early_cut:
        problems.append(f"{len(early_cut)} requests lost their connection before the kill, e.g.:\n"
                        + examples(calls, lambda c: c in early_cut))
    fail_with_log(server, problems)

    integrity = db.integrity() if kind == "sqlite" else "n/a"
    server.start()
    log(f"restarted: pid {server.pid}")
    assets = {c.ident: c.key for c in calls if c.ok and c.op == "create_asset"}
    invites = {c.ident: c.key for c in calls if c.ok and c.op == "invite"}
    problems += check_written(db, assets, "assets", "created assets")
    problems += check_written(db, invites, "invitations", "invitations")
    if kind == "sqlite" and integrity != "ok":
        problems.append(f"PRAGMA integrity_check after the kill: {integrity}")
    bad = invariant_violations(db)
    if bad:
        problems.append(f"half-written changes after the kill: {bad}")
    # The restarted server serves every acknowledged asset to its owner.
    owner = {}
    for c in calls:
        if c.ok and c.op == "create_asset":
            owner[c.ident] = users[int(c.key.rsplit("-", 2)[1]) % len(users)]
    s = requests.Session()
    not_served = []
    for aid, u in owner.items():
        r = s.get(f"{server.base}/api/v1/assets/{aid}", headers={"Authorization": f"Bearer {u.token}"},
                  timeout=MAX_LATENCY)
        if r.status_code != 200:
            not_served.append(f"{aid}: {r.status_code}")
    if not_served:
        problems.append(f"{len(not_served)} acknowledged assets not served after the restart: {not_served[:5]}")
    fail_with_log(server, problems)
    extra_assets = committed_without_2xx(db, [c for c in calls if c.op == "create_asset"], "assets", "name")
    extra_inv = committed_without_2xx(db, [c for c in calls if c.op == "invite"], "invitations", "email")
    t = Tally.of(answered)
    return [
        f"before the kill: {t.line()}",
        f"in flight at the kill (no answer): {len(cut)} (and {len(refused)} refused after it); "
        f"of the unanswered, committed anyway: "
        f"{extra_assets} assets, {extra_inv} invitations (allowed: never acknowledged)",
        f"after restart: {len(assets)} acknowledged assets and {len(invites)} invitations all in "
        f"the database and served; invariants hold"
        + (f"; PRAGMA integrity_check {integrity}" if kind == "sqlite" else ""),
    ]


# ----------------------------------------------------------------------------
# 4. SIGTERM with requests in flight
# ----------------------------------------------------------------------------
def sigterm(kind: str) -> list[str]:
    """Twice, each on a fresh server: SIGTERM once the server has read every
    request (they are being processed), and SIGTERM right after the last
    request was written (some still in the server's receive queue). In both,
    every request sent before the signal must finish."""
    problems, summary = [], []
    for mode in ("read", "sent"):
        try:
            summary += sigterm_once(kind, mode)
        except Failure as e:
            problems.append(str(e))
    if problems:
        passed = "".join(f"\n  {line}" for line in summary)
        raise Failure("\n".join(problems) + (f"\n--- the run that passed:{passed}" if passed else ""))
    return summary


def sigterm_once(kind: str, mode: str) -> list[str]:
    inflight = int(env_num("FAULTS_SIGTERM_REQUESTS", CLIENTS))
    drain = env_num("FAULTS_DRAIN_SECONDS", 30)
    label = {"read": "requests read by the server", "sent": "requests just sent"}[mode]
    wd = Workdir(f"sigterm-{kind}-{mode}")
    db = database(kind, wd, f"sigterm-{kind}")
    # Password checks queue instead of being refused (503 server_busy) so
    # that every one of them is a slow request still running at SIGTERM.
    server = Server(wd, db, env={"KEYHOLDER_MAX_CONCURRENT_HASHES": str(inflight),
                                 "KEYHOLDER_HASH_WAIT_MS": "120000"})
    server.start()
    log(f"[{label}] server pid {server.pid} on {server.base} ({kind}), log {server.logfile}")
    api = Api(server.base)
    logins = inflight // 2
    users = [api.register("term") for _ in range(max(1, min(logins, 4)))]

    # Every request goes over a connection the server has already accepted
    # and answered once (so none waits in the listen backlog at SIGTERM).
    conns = []
    for _ in range(inflight):
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=drain + 30)
        c.request("GET", "/health/live")
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise Failure(f"/health/live answered {r.status}")
        conns.append(c)
    ports = {c.sock.getsockname()[1] for c in conns}

    sent = [threading.Event() for _ in range(inflight)]
    results: list[dict] = [{} for _ in range(inflight)]
    go = threading.Barrier(inflight + 1)

    def one(i):
        c = conns[i]
        if i < logins:
            u = users[i % len(users)]
            op, path, body = "login", "/api/v1/auth/login", {"login": u.username, "password": u.password}
        else:
            tag = f"{RUN}{mode}{i}"
            op, path = "register", "/api/v1/auth/register"
            body = {"email": f"term-{tag}@example.com", "username": f"term_{tag}",
                    "password": f"term-password-{tag}"}
        res = results[i]
        res.update(op=op, key=body.get("username") or body.get("login"),
                   port=c.sock.getsockname()[1])
        go.wait()
        res["start"] = time.time()
        try:
            c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            sent[i].set()
            r = c.getresponse()
            data = r.read()
            res["end"] = time.time()
            res["status"] = r.status
            res["complete"] = r.getheader("Content-Length") in (None, str(len(data)))
            try:
                res["body"] = json.loads(data)
            except ValueError:
                res["body"] = data[:200]
        except Exception as e:
            res["end"] = time.time()
            res["error"] = f"{type(e).__name__}: {e}"
            sent[i].set()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(inflight)]
    for t in threads:
        t.start()
    go.wait()
    for e in sent:
        e.wait(10)
    if mode == "read":
        # Until the server has read every request off its socket (their
        # password hashes are then under way), at most 5 s.
        deadline = time.time() + 5
        while time.time() < deadline:
            queued = unread_bytes(server.port)
            if queued is None:  # cannot tell: give it half a second
                time.sleep(0.5)
                break
            if not any(queued.get(p) for p in ports):
                break
            time.sleep(0.01)
    unread = unread_bytes(server.port) or {}  # what the server had not read yet, per client port
    t_sig = time.time()
    server.sigterm()
    in_flight = sum(1 for r in results if "end" not in r)
    queued_at_sig = sum(1 for p in ports if unread.get(p))
    log(f"[{label}] SIGTERM with {in_flight} of {inflight} requests unanswered, "
        f"{queued_at_sig} of them not yet read by the server")
    # A new connection after the signal: refused, or answered (not required).
    time.sleep(0.2)
    try:
        nc = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        nc.request("GET", "/health/live")
        late = f"answered {nc.getresponse().status}"
    except Exception as e:
        late = f"{type(e).__name__}"
    for t in threads:
        t.join(drain + 30)
    rc = server.wait(drain + 15)
    t_exit = time.time()

    problems = []
    if in_flight == 0:
        problems.append("every request had finished before SIGTERM: nothing was in flight "
                        "(raise FAULTS_SIGTERM_REQUESTS)")
    bad = [r for r in results if r.get("status") is None or not 200 <= r["status"] < 300
           or not r.get("complete")]
    for r in bad[:8]:
        sent_at = f"sent {t_sig - r['start']:.2f} s before SIGTERM" if "start" in r else ""
        queued = unread.get(r.get("port"))
        queued = (f"; at SIGTERM the server had {queued} unread bytes on this connection"
                  if queued is not None else "")
        problems.append(f"{r.get('op')} {r.get('key')} (client port {r.get('port')}, {sent_at}): "
                        + (f"{r['status']} {str(r.get('body'))[:200]}" if "status" in r
                           else f"no complete answer ({r.get('error', 'still waiting')})") + queued)
    if bad:
        problems.insert(0, f"[{label}] {len(bad)} of {inflight} requests sent before SIGTERM "
                        f"({in_flight} unanswered at the signal, {queued_at_sig} of them not yet "
                        "read by the server) did not finish with 2xx")
    if rc is None:
        problems.append(f"the server had not exited {drain + 15:.0f} s after SIGTERM")
    elif rc != 0:
        problems.append(f"the server exited with {rc} after SIGTERM (expected 0)")
    elif t_exit - t_sig > drain + 2:
        problems.append(f"the server took {t_exit - t_sig:.1f} s to exit after SIGTERM "
                        f"(drain limit {drain:.0f} s)")
    fail_with_log(server, problems)

    # The registrations that answered 201 are in the database.
    registered = {r["body"]["user"]["id"]: r["key"] for r in results
                  if r["op"] == "register" and isinstance(r.get("body"), dict)}
    problems += check_written(db, registered, "users", "registered users")
    badinv = invariant_violations(db)
    if badinv:
        problems.append(f"half-written changes: {badinv}")
    fail_with_log(server, problems)
    lat = [r["end"] - r["start"] for r in results]
    after_sig = [r["end"] - t_sig for r in results if r["end"] > t_sig]
    return [
        f"[{label}] {inflight} requests ({logins} logins, {inflight - logins} registrations), "
        f"{in_flight} unanswered at SIGTERM ({queued_at_sig} not yet read by the server): all "
        f"answered 2xx with complete bodies (latency max {max(lat):.2f}s; last answer "
        f"{max(after_sig or [0]):.2f} s after the signal)",
        f"[{label}] server exited with code {rc} {t_exit - t_sig:.1f} s after SIGTERM (drain "
        f"limit {drain:.0f} s); a new connection after the signal: {late}; {len(registered)} "
        "registrations in the database",
    ]


def unread_bytes(server_port: int) -> dict[int, int] | None:
    """Per client port: the bytes of its connection to the server that sit
    in the server's receive queue, unread by the server (`ss`)."""
    try:
        out = subprocess.run(["ss", "-tnH", "state", "established", f"( sport = :{server_port} )"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # no `ss` (iproute2): unknown
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            try:
                found[int(parts[3].rsplit(":", 1)[1])] = int(parts[0])
            except ValueError:
                pass
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=["pg-outage", "smtp-outage", "kill9", "sigterm"])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    a = p.parse_args()
    if a.scenario == "pg-outage":
        return run_scenario("pg-outage (postgres)", pg_outage)
    if a.scenario == "smtp-outage":
        return run_scenario(f"smtp-outage ({a.db})", lambda: smtp_outage(a.db))
    if a.scenario == "kill9":
        return run_scenario(f"kill9 ({a.db})", lambda: kill9(a.db))
    return run_scenario(f"sigterm ({a.db})", lambda: sigterm(a.db))


if __name__ == "__main__":
    sys.exit(main())
