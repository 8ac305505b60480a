#!/usr/bin/env python3
"""Soak: the server at moderate load for SOAK_SECONDS (default 3600), with
its resident memory, open file handles and (on PostgreSQL) database
connections sampled every SOAK_SAMPLE_SECONDS (default 30).

    python3 tests/faults/soak.py [--postgres]        # or: bash tests/faults/soak.sh

It fails when, for any of these, the last quarter of the run is above the
second quarter by more than the margin:

    RSS          average   SOAK_RSS_MARGIN_PCT  % (default 10) plus SOAK_RSS_SLACK_MIB MiB (default 4)
    open fds     floor     SOAK_FD_MARGIN       handles (default 3)
    connections  floor     SOAK_CONN_MARGIN     connections (default 2)

Open files and database connections are compared by their floor (the
quarter's lowest sample), not their average: the pool opens connections as
the load needs them (up to its size) and closes those idle for ten minutes,
so both move with the machine's load; a leak raises the floor. Connections
must also never exceed the pool's size (SOAK_POOL_SIZE, default 10).

and when any request answers other than 2xx (or not at all). The first
quarter is the warm-up (caches and pools filling) and is not compared.

The load: SOAK_CLIENTS clients (default 8) at SOAK_RPS requests per second
in all (default 20), each cycling through create, read, update and delete of
an asset, the garage's first page, an invitation now and then (emails
written into the mail folder) and a sign-in (a password hash) now and then.
Not part of run.sh or CI: it takes an hour by default.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import uuid

from harness import (
    Failure, Load, PgDb, PgCluster, Server, SqliteDb, Tally, Workdir, Api, examples, log,
    mail_token_from_dir, request, run_scenario, shared_pg_up, SHARED_PG_URL,
)


def num(name, default):
    return float(os.environ.get(name, default))


SECONDS = num("SOAK_SECONDS", 3600)
SAMPLE = num("SOAK_SAMPLE_SECONDS", 30)
CLIENTS = int(num("SOAK_CLIENTS", 8))
RPS = num("SOAK_RPS", 20)
RSS_PCT = num("SOAK_RSS_MARGIN_PCT", 10)
RSS_SLACK = num("SOAK_RSS_SLACK_MIB", 4)
FD_MARGIN = num("SOAK_FD_MARGIN", 3)
CONN_MARGIN = num("SOAK_CONN_MARGIN", 2)
POOL_SIZE = num("SOAK_POOL_SIZE", 10)


def soak(postgres: bool, private: bool) -> list[str]:
    run = uuid.uuid4().hex[:6]
    wd = Workdir("soak")
    if postgres:
        if private or not shared_pg_up():
            cluster = PgCluster("soak")
            cluster.start()
            db = PgDb(cluster.admin_url)
        else:
            db = PgDb(SHARED_PG_URL)
    else:
        db = SqliteDb(wd / "keyholder.db")
    # Long enough access tokens for the whole run (a 401 also signs in again).
    server = Server(wd, db, env={"KEYHOLDER_TOKEN_TTL": str(int(max(900, SECONDS + 600)))})
    server.start()
    log(f"soak: server pid {server.pid} on {server.base} ({db.kind}), log {server.logfile}; "
        f"{CLIENTS} clients at {RPS:g} req/s for {SECONDS:.0f} s, a sample every {SAMPLE:.0f} s")
    api = Api(server.base)
    users = []
    for _ in range(min(CLIENTS, 4)):
        u = api.register("soak")
        api.verify(mail_token_from_dir(server.mail_dir, u.email, "/verify-email"))
        users.append(u)

    period = CLIENTS / RPS
    owned: dict[int, list[str]] = {i: [] for i in range(CLIENTS)}
    next_at: dict[int, float] = {}

    def step(i, s, n):
        now = time.time()
        due = next_at.get(i, now + (i * period / CLIENTS))
        if due > now:
            time.sleep(due - now)
        next_at[i] = max(due + period, time.time() - period)
        u = users[i % len(users)]
        mine = owned[i]
        base = server.base
        kind = n % 10
        if n % 97 == 96:
            c = request(s, "POST", f"{base}/api/v1/auth/login", "login",
                        json_body={"login": u.username, "password": u.password}, key=u.username)
        elif kind in (0, 5) or not mine:
            name = f"soak-{run}-{i}-{n}"
            c = request(s, "POST", f"{base}/api/v1/assets", "create_asset", token=u.token,
                        json_body={"name": name, "attributes": {"n": n}}, key=name)
            if c.ok:
                mine.append(c.ident)
        elif kind in (1, 6):
            c = request(s, "GET", f"{base}/api/v1/assets/{mine[-1]}", "get_asset", token=u.token)
        elif kind == 2:
            c = request(s, "PATCH", f"{base}/api/v1/assets/{mine[-1]}", "update_asset", token=u.token,
                        json_body={"name": f"soak-{run}-{i}-{n}-renamed"})
        elif kind in (3, 8):
            c = request(s, "GET", f"{base}/api/v1/assets?per_page=20", "garage", token=u.token)
        elif kind == 4 and n % 20 == 4:
            email = f"soak-{run}-{i}-{n}@example.com"
            c = request(s, "POST", f"{base}/api/v1/assets/{mine[-1]}/invitations", "invite",
                        token=u.token, json_body={"email": email, "permission": "view"}, key=email)
        elif len(mine) > 3:
            # Keep each client's assets few, so the database stays about the same size.
            c = request(s, "DELETE", f"{base}/api/v1/assets/{mine.pop(0)}", "delete_asset", token=u.token)
        else:
            c = request(s, "GET", f"{base}/api/v1/me", "me", token=u.token)
        if c.status == 401:
            api.login(u)
        return c

    load = Load(CLIENTS, step, "soak").start()
    t0 = time.time()
    samples = []
    header = (f"{'t(s)':>6} {'RSS MiB':>8} {'fds':>5} {'threads':>7} {'db conns':>8} "
              f"{'requests':>9} {'req/s':>6} {'non-2xx':>7} {'p99 s':>6}")
    print(header, flush=True)

    def sample(t):
        calls = load.calls
        prev = samples[-1] if samples else None
        recent = calls[prev["n"]:] if prev else calls
        lat = sorted(c.latency for c in recent)
        row = {
            "t": t, "rss": server.rss_kib() / 1024, "fds": server.fds(), "threads": server.threads(),
            "conns": db.connections(), "n": len(calls),
            "rate": (len(calls) - prev["n"]) / max(1e-6, t - prev["t"]) if prev else 0.0,
            "bad": sum(1 for c in calls if not c.ok),
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0,
        }
        samples.append(row)
        conns = "-" if row["conns"] is None else str(row["conns"])
        print(f"{t:6.0f} {row['rss']:8.1f} {row['fds']:5d} {row['threads']:7d} {conns:>8} "
              f"{row['n']:9d} {row['rate']:6.1f} {row['bad']:7d} {row['p99']:6.2f}", flush=True)

    sample(0.0)
    k = 1
    while True:
        target = t0 + min(k * SAMPLE, SECONDS)
        while time.time() < target:
            if not server.alive():
                raise Failure(f"the server exited with {server.proc.returncode} during the soak\n"
                              + server.tail())
            if load.crashes:
                raise Failure("the load generator broke: " + "; ".join(load.crashes[:3]))
            time.sleep(min(1.0, max(0.0, target - time.time())))
        sample(time.time() - t0)
        if target >= t0 + SECONDS:
            break
        k += 1
    stuck = load.stop()
    calls = load.calls

    problems = []
    if stuck:
        problems.append(f"{len(stuck)} clients hung: {', '.join(stuck[:5])}")
    bad = [c for c in calls if not c.ok]
    if bad:
        problems.append(f"{len(bad)} of {len(calls)} requests did not answer 2xx, e.g.:\n"
                        + examples(calls, lambda c: not c.ok))

    def avg(key, lo, hi):
        vals = [s[key] for s in samples if lo <= s["t"] < hi and s[key] is not None]
        return sum(vals) / len(vals) if vals else None

    def floor(key, lo, hi):
        vals = [s[key] for s in samples if lo <= s["t"] < hi and s[key] is not None]
        return min(vals) if vals else None

    q = SECONDS / 4
    verdict = []
    checks = [("RSS MiB", "rss", avg, "avg", lambda a: a * (1 + RSS_PCT / 100) + RSS_SLACK,
               f"+{RSS_PCT:g}% +{RSS_SLACK:g} MiB"),
              ("open fds", "fds", floor, "floor", lambda a: a + FD_MARGIN, f"+{FD_MARGIN:g}")]
    if db.kind == "postgres":
        checks.append(("db connections", "conns", floor, "floor", lambda a: a + CONN_MARGIN,
                       f"+{CONN_MARGIN:g}"))
        most = max((s["conns"] for s in samples if s["conns"] is not None), default=0)
        if most > POOL_SIZE:
            problems.append(f"{most} database connections, more than the pool's {POOL_SIZE:g}")
    for label, key, agg, how, limit, margin in checks:
        second, last = agg(key, q, 2 * q), agg(key, 3 * q, SECONDS + SAMPLE)
        if second is None or last is None:
            problems.append(f"too few samples to compare quarters (SOAK_SECONDS={SECONDS:g}, "
                            f"SOAK_SAMPLE_SECONDS={SAMPLE:g}): run longer or sample more often")
            break
        ok = last <= limit(second)
        verdict.append(f"{label}: 2nd quarter {how} {second:.1f}, last quarter {how} {last:.1f}, "
                       f"limit {limit(second):.1f} ({margin}) -> {'ok' if ok else 'GROWTH'}")
        if not ok:
            problems.append(f"{label} grew: last quarter {how} {last:.1f} > {limit(second):.1f} "
                            f"(second quarter {second:.1f} {margin})")
    t = Tally.of(calls)
    if problems:
        raise Failure("\n  ".join(problems + verdict) + "\n--- server log: warnings, errors, 5xx ---\n"
                      + server.problems_in_log())
    ops = {}
    for c in calls:
        ops[c.op] = ops.get(c.op, 0) + 1
    mix = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()))
    return [f"{db.kind}, {SECONDS:.0f} s: {t.line()}", f"mix: {mix}"] + verdict


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    p.add_argument("--private-pg", action="store_true",
                   help="with --postgres: a private cluster instead of a database on the shared server")
    a = p.parse_args()

    # Bounded whatever happens: the run, plus time to start and to stop.
    def overtime(*_):
        raise Failure(f"the soak overran its hard limit ({SECONDS + 300:.0f} s)")
    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(int(SECONDS + 300))
    return run_scenario(f"soak ({'postgres' if a.postgres else 'sqlite'})", lambda: soak(a.postgres, a.private_pg))


if __name__ == "__main__":
    sys.exit(main())
