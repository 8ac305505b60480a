"""Shared pieces of the fault scenarios (scenarios.py) and the soak (soak.py):
the server process, databases (a private PostgreSQL cluster, a throw-away
database on a shared one, SQLite files), an API client, a load generator
that records every answer, and the checks of what was written.

Standard library plus `requests`. Everything a helper starts is registered
in CLEANUP and undone at exit, on failure, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests

ROOT = Path(__file__).resolve().parents[2]
# Fixed, test-only secret (>= 32 characters); never use it anywhere real.
JWT_SECRET = "keyholder-test-only-jwt-secret-0123456789abcdef"
PG_BIN = Path(os.environ.get("FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SHARED_PG_URL = os.environ.get(
    "KEYHOLDER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
# What a request may take at most: the pool timeout plus a margin.
DB_TIMEOUT = int(os.environ.get("FAULTS_DB_TIMEOUT", "5"))
MAX_LATENCY = float(os.environ.get("FAULTS_MAX_LATENCY", str(DB_TIMEOUT + 3)))
KEEP = os.environ.get("FAULTS_KEEP", "0") == "1"
# Seconds a client connection may sit idle and still be reused (see request()).
IDLE_REUSE = 2.0
# Set when a scenario fails: its temp folders and databases are then kept.
STATE = {"failed": False, "interrupted": False}


def keeping() -> bool:
    return KEEP or STATE["failed"]


class Failure(Exception):
    """A scenario's check failed: the message says what and where to look."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------
# Cleanup: run in reverse order at exit, even after SIGTERM (run.sh's timeout).
# ----------------------------------------------------------------------------
CLEANUP: list[Callable[[], None]] = []


def on_cleanup(fn: Callable[[], None]) -> Callable[[], None]:
    CLEANUP.append(fn)
    return fn


def cleanup_all() -> None:
    while CLEANUP:
        fn = CLEANUP.pop()
        try:
            fn()
        except BaseException as e:  # keep going: the rest must still be undone
            log(f"cleanup step failed: {type(e).__name__} {e}")


def _terminated(signum, _frame):
    # Once: `timeout` signals the whole process group, and a second signal
    # must not cut the cleanup short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    STATE["interrupted"] = True
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)


def remember(kind: str, value: str) -> None:
    """Notes what was started in $FAULTS_STATE_DIR/<kind> (one per line), so
    that run.sh can still undo it if this process is killed outright."""
    state = os.environ.get("FAULTS_STATE_DIR")
    if state and os.path.isdir(state):
        with open(os.path.join(state, kind), "a") as f:
            f.write(value + "\n")


try:  # looked up here: a child between fork and exec must not import
    import ctypes

    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except Exception:  # not Linux: no safety net
    _PRCTL = None


def _die_with_parent() -> None:
    """In a child before exec: SIGKILL it when this harness dies (Linux)."""
    if _PRCTL is not None:
        _PRCTL(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


def keyholder_bin() -> Path:
    explicit = os.environ.get("KEYHOLDER_BIN")
    if explicit:
        path = Path(explicit)
    else:
        target = os.environ.get("CARGO_TARGET_DIR") or "/work/keyholder-target"
        path = Path(target) / "debug" / "keyholder"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise Failure(
            f"no keyholder binary at {path}: build it (cargo build -p keyholder-api) "
            "or set KEYHOLDER_BIN"
        )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workdir:
    """A temp folder for one scenario: server logs, SQLite files, mail.
    Removed at the end unless the scenario failed or FAULTS_KEEP=1."""

    def __init__(self, name: str):
        self.path = Path(tempfile.mkdtemp(prefix=f"kh-faults-{name}-"))
        on_cleanup(self._remove)

    def _remove(self):
        if keeping():
            log(f"kept {self.path} (server logs and data)")
        else:
            shutil.rmtree(self.path, ignore_errors=True)

    def __truediv__(self, other):
        return self.path / other


# ----------------------------------------------------------------------------
# Databases
# ----------------------------------------------------------------------------
def run(cmd: list[str], *, check=True, timeout=60, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    return p


def psql(url: str, sql: str, timeout=60) -> list[list[str]]:
    p = run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t", "-c", sql], timeout=timeout)
    return [line.split("\t") for line in p.stdout.splitlines() if line != ""]


def url_with_db(url: str, db: str) -> str:
    m = re.match(r"^(postgres(?:ql)?://[^/?]+)(?:/[^?]*)?(\?.*)?$", url)
    if not m:
        raise Failure(f"cannot read the PostgreSQL URL {url!r}")
    return f"{m.group(1)}/{db}{m.group(2) or ''}"


class PgCluster:
    """A private PostgreSQL cluster in a temp folder, owned by the `postgres`
    OS user (initdb refuses root), trust auth, on a free port of 127.0.0.1 with
    its unix socket inside the folder. It may be stopped and started at will:
    the shared server on 5432 is never touched."""

    def __init__(self, name="pg"):
        self.dir = Path(tempfile.mkdtemp(prefix=f"kh-faults-{name}-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.logfile = self.dir / "postgres.log"
        self.port = free_port()
        self.started = False
        on_cleanup(self.destroy)
        self.sock.mkdir()
        remember("clusters", str(self.data))
        run(["chown", "-R", "postgres:postgres", str(self.dir)])
        if not (PG_BIN / "initdb").exists():
            raise Failure(f"no initdb in {PG_BIN} (set FAULTS_PG_BIN)")
        self._as_pg(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"],
            timeout=120,
        )

    def _as_pg(self, cmd, timeout=60, check=True):
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return run(cmd, timeout=timeout, check=check, cwd=str(self.dir))

    @property
    def admin_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200 -c shared_buffers=32MB")
        self._as_pg([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                     "-o", opts, "-w", "-t", "60", "start"], timeout=90)
        self.started = True

    def stop(self, mode="fast") -> None:
        self._as_pg([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                     "stop"], timeout=90)
        self.started = False

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_pg([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                         "stop"], check=False)
        if keeping():
            log(f"kept the private PostgreSQL folder {self.dir} (log: {self.logfile})")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Database:
    """Where a server keeps its data, and SQL to check it afterwards."""

    kind: str
    url: str

    def query(self, sql: str) -> list[list[str]]:
        raise NotImplementedError

    def scalar(self, sql: str) -> int:
        rows = self.query(sql)
        return int(rows[0][0]) if rows else 0

    def connections(self) -> int | None:
        return None


class SqliteDb(Database):
    kind = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        self.url = f"sqlite://{path}"

    def query(self, sql):
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return [[("" if v is None else str(v)) for v in row] for row in con.execute(sql)]
        finally:
            con.close()

    def integrity(self) -> str:
        return self.query("PRAGMA integrity_check")[0][0]


class PgDb(Database):
    """A throw-away database `kh_faults_<random>` made through `admin_url`
    (a private cluster's, or the shared server's) and dropped at the end."""

    kind = "postgres"

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.name = f"kh_faults_{uuid.uuid4().hex[:12]}"
        psql(admin_url, f"CREATE DATABASE {self.name}")
        remember("databases", f"{admin_url} {self.name}")
        self.url = url_with_db(admin_url, self.name)
        on_cleanup(self.drop)

    def query(self, sql):
        return psql(self.url, sql)

    def connections(self) -> int | None:
        return int(psql(self.admin_url,
                        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.name}'")[0][0])

    def drop(self):
        if keeping() and not self.admin_url.startswith(SHARED_PG_URL.rsplit("/", 1)[0]):
            log(f"kept PostgreSQL database {self.name}")
            return
        try:
            psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", timeout=30)
        except Exception as e:
            log(f"could not drop PostgreSQL database {self.name}: {e}")


def shared_pg_up() -> bool:
    try:
        psql(SHARED_PG_URL, "SELECT 1", timeout=10)
        return True
    except Exception:
        return False


# ----------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------
class Server:
    """One `keyholder serve` process; its output goes to `<workdir>/<name>.log`."""

    def __init__(self, workdir: Workdir, db: Database, name="server", *, smtp_url=None,
                 env: dict | None = None, port: int | None = None):
        self.bin = keyholder_bin()
        self.workdir = workdir
        self.db = db
        self.name = name
        self.logfile = workdir / f"{name}.log"
        self.mail_dir = workdir / "mail"
        self.smtp_url = smtp_url
        self.extra_env = env or {}
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        on_cleanup(self.stop)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("KEYHOLDER_") and k != "DATABASE_URL"}
        env.update({
            "KEYHOLDER_DATABASE_URL": self.db.url,
            "KEYHOLDER_BIND": f"127.0.0.1:{self.port}",
            "KEYHOLDER_JWT_SECRET": JWT_SECRET,
            "KEYHOLDER_APP_URL": self.base,
            "KEYHOLDER_AUTH_RATE_LIMIT": "0",
            "KEYHOLDER_ACTION_RATE_LIMIT": "0",
            "KEYHOLDER_PASSWORD_RATE_LIMIT": "0",
            "KEYHOLDER_INVITE_DAILY_LIMIT": "1000000",
            "KEYHOLDER_DB_TIMEOUT": str(DB_TIMEOUT),
            "KEYHOLDER_MAIL_POLL_MS": "200",
            "KEYHOLDER_LOG_FORMAT": "json",
            "RUST_LOG": os.environ.get("RUST_LOG", "info"),
            "NO_COLOR": "1",
        })
        if self.smtp_url:
            env["KEYHOLDER_SMTP_URL"] = self.smtp_url
        else:
            env["KEYHOLDER_MAIL_DIR"] = str(self.mail_dir)
        env.update(self.extra_env)
        return env

    def start(self, timeout=120) -> None:
        keep_port = self.port is not None
        for attempt in range(3):
            if not keep_port:
                self.port = free_port()
            with open(self.logfile, "ab") as out:
                out.write(f"--- start {self.starts + 1} at {time.strftime('%H:%M:%S')} "
                          f"on port {self.port} ---\n".encode())
                out.flush()
                self.proc = subprocess.Popen([str(self.bin), "serve"], env=self.env(),
                                             cwd=str(self.workdir.path), stdout=out,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True, preexec_fn=_die_with_parent)
            remember("pids", str(self.proc.pid))
            self.starts += 1
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    if requests.get(f"{self.base}/health/ready", timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            if self.proc.poll() is None:
                raise Failure(f"{self.name} not ready within {timeout} s; see {self.logfile}\n"
                              + self.tail())
            if "address already in use" in self.tail(5).lower() and not keep_port:
                continue
            raise Failure(f"{self.name} exited with {self.proc.returncode} before it was ready; "
                          f"see {self.logfile}\n" + self.tail())
        raise Failure(f"{self.name}: no free port after 3 tries")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def sigterm(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if not self.alive():
            return
        if STATE["interrupted"]:  # out of time: no graceful stop
            self.proc.kill()
            self.proc.wait(10)
            return
        self.proc.send_signal(signal.SIGTERM)
        if self.wait(15) is None:
            log(f"{self.name} did not stop within 15 s of SIGTERM: SIGKILL")
            self.proc.kill()
            self.proc.wait(10)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def tail(self, n=40) -> str:
        try:
            lines = self.logfile.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-n:])

    def problems_in_log(self, limit=30) -> str:
        """The log's ERROR and WARN lines and those naming a 5xx status."""
        try:
            lines = self.logfile.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        hits = [l for l in lines if re.search(
            r'"level":"(ERROR|WARN)"|\b(ERROR|WARN)\b|"status":5\d\d|status=5\d\d|panick', l)]
        # The worst first: panics and 5xx other than 503, then the rest in order.
        worst = [l for l in hits if re.search(r'panick|"status":5(?!03)\d\d|status=5(?!03)\d\d', l)]
        seen = set(worst)
        hits = worst + [l for l in hits if l not in seen]
        if not hits:
            return "(no warning, error or 5xx in the log)"
        more = f"\n... {len(hits) - limit} more in {self.logfile}" if len(hits) > limit else ""
        return "\n".join(hits[:limit]) + more


# ----------------------------------------------------------------------------
# The API
# ----------------------------------------------------------------------------
@dataclass
class User:
    username: str
    email: str
    password: str
    token: str = ""
    id: str = ""


@dataclass
class Call:
    """One request and how it ended."""

    op: str
    start: float
    end: float
    status: int | None = None  # None: no answer (connection error or timeout)
    retry_after: str | None = None
    error: str | None = None
    ident: str | None = None  # the id of what a 2xx created
    key: str | None = None  # what the client asked for (unique name or email)
    body: str = ""

    @property
    def latency(self) -> float:
        return self.end - self.start

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        what = f"{self.status}" if self.status is not None else f"no answer ({self.error})"
        extra = f" Retry-After={self.retry_after}" if self.retry_after else ""
        body = f" body={self.body[:300]}" if self.body and not self.ok else ""
        return (f"{self.op} {self.key or ''} at {time.strftime('%H:%M:%S', time.localtime(self.start))}"
                f" -> {what}{extra} after {self.latency:.2f}s{body}")


def request(session: requests.Session, method: str, url: str, op: str, *, token=None,
            json_body=None, key=None, timeout=None) -> Call:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    start = time.time()
    # The server closes a keep-alive connection idle for its keep-alive time
    # (actix: 5 s); a request sent on it just then is lost before the server
    # reads it (the usual HTTP/1.1 race, answered by no status). A paced
    # client therefore takes a fresh connection after a pause.
    if start - getattr(session, "_kh_last_used", start) > IDLE_REUSE:
        session.close()
    call = Call(op, start, start, key=key)
    try:
        r = session.request(method, url, json=json_body, headers=headers,
                            timeout=(3, timeout or MAX_LATENCY))
        call.end = time.time()
        call.status = r.status_code
        call.retry_after = r.headers.get("Retry-After")
        if r.ok:
            try:
                call.ident = (r.json() or {}).get("id") if r.content else None
            except ValueError:
                pass
        else:
            call.body = r.text
    except requests.Timeout as e:
        call.end, call.error = time.time(), f"timeout: {type(e).__name__}"
    except requests.RequestException as e:
        call.end, call.error = time.time(), f"{type(e).__name__}: {str(e)[:160]}"
    session._kh_last_used = call.end
    return call


class Api:
    def __init__(self, base: str):
        self.base = base

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def _must(self, r: requests.Response, what: str) -> dict:
        if not r.ok:
            raise Failure(f"{what} answered {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else {}

    def register(self, prefix="fault", s: requests.Session | None = None) -> User:
        s = s or requests
        tag = uuid.uuid4().hex[:10]
        u = User(f"{prefix}_{tag}", f"{prefix}-{tag}@example.com", f"fault-password-{tag}")
        body = self._must(s.post(self.url("/api/v1/auth/register"), timeout=120, json={
            "email": u.email, "username": u.username, "password": u.password}), "register")
        u.token, u.id = body["access_token"], body["user"]["id"]
        return u

    def login(self, u: User, s: requests.Session | None = None) -> User:
        s = s or requests
        body = self._must(s.post(self.url("/api/v1/auth/login"), timeout=120,
                                 json={"login": u.username, "password": u.password}), "login")
        u.token = body["access_token"]
        return u

    def verify(self, token: str) -> None:
        self._must(requests.post(self.url("/api/v1/auth/verify-email"), timeout=60,
                                 json={"token": token}), "verify-email")

    def create_asset(self, u: User) -> str:
        return self._must(requests.post(self.url("/api/v1/assets"), timeout=60,
                                        headers={"Authorization": f"Bearer {u.token}"},
                                        json={"name": f"setup-{uuid.uuid4().hex[:8]}"}),
                          "create asset")["id"]


def mail_token_from_dir(mail_dir: Path, to: str, route: str, timeout=30) -> str:
    """The token of the newest `.eml` to `to` with a `<route>#token=` link."""
    import email as email_mod
    import email.policy

    link = re.compile(re.escape(route) + r"#token=([A-Za-z0-9_-]+)")
    deadline = time.time() + timeout
    while time.time() < deadline:
        names = sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True) \
            if mail_dir.exists() else []
        for name in names:
            msg = email_mod.message_from_bytes(name.read_bytes(), policy=email.policy.default)
            if to.lower() not in str(msg["To"]).lower():
                continue
            for part in msg.walk():
                if part.get_content_maintype() == "text":
                    found = link.search(part.get_content())
                    if found:
                        return found.group(1)
        time.sleep(0.2)
    raise Failure(f"no email to {to} with a {route}#token= link in {mail_dir} within {timeout} s")


# ----------------------------------------------------------------------------
# Load: N client threads, each with its own connection, recording every call
# ----------------------------------------------------------------------------
class Load:
    """Runs `step(worker, session, n) -> Call | None` in `clients` threads
    until stopped; every Call is kept in `calls` (in completion order)."""

    def __init__(self, clients: int, step: Callable[[int, requests.Session, int], Call | None],
                 name="load"):
        self.clients = clients
        self.step = step
        self.name = name
        self.calls: list[Call] = []
        self.crashes: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True,
                                          name=f"{name}-{i}") for i in range(clients)]

    def _run(self, i: int):
        s = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        s.mount("http://", adapter)
        n = 0
        while not self._stop.is_set():
            try:
                call = self.step(i, s, n)
            except Exception as e:  # a harness bug: report it, never hide it
                self.crashes.append(f"{self.name}-{i}: {type(e).__name__}: {e}")
                return
            if call is not None:
                self.calls.append(call)
            n += 1

    def start(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self, timeout=None) -> list[str]:
        """Stops the clients; returns the names of those still stuck after
        `timeout` (a request hanging past the client timeout)."""
        self._stop.set()
        deadline = time.time() + (timeout if timeout is not None else MAX_LATENCY + 10)
        for t in self._threads:
            t.join(max(0.0, deadline - time.time()))
        return [t.name for t in self._threads if t.is_alive()]


@dataclass
class Tally:
    total: int = 0
    ok: int = 0
    s503: int = 0
    s503_no_retry_after: int = 0
    s500: int = 0
    other: dict = field(default_factory=dict)
    no_answer: int = 0
    timeouts: int = 0
    max_latency: float = 0.0
    p99: float = 0.0

    @classmethod
    def of(cls, calls: list[Call]) -> "Tally":
        t = cls(total=len(calls))
        lat = sorted(c.latency for c in calls)
        if lat:
            t.max_latency = lat[-1]
            t.p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        for c in calls:
            if c.status is None:
                t.no_answer += 1
                if c.error and c.error.startswith("timeout"):
                    t.timeouts += 1
            elif c.ok:
                t.ok += 1
            elif c.status == 503:
                t.s503 += 1
                if not c.retry_after:
                    t.s503_no_retry_after += 1
            elif c.status >= 500:
                t.s500 += 1
                t.other[c.status] = t.other.get(c.status, 0) + 1
            else:
                t.other[c.status] = t.other.get(c.status, 0) + 1
        return t

    def line(self) -> str:
        other = ", ".join(f"{k}: {v}" for k, v in sorted(self.other.items())) or "none"
        return (f"requests {self.total}, 2xx {self.ok}, 503 {self.s503} "
                f"(without Retry-After {self.s503_no_retry_after}), other statuses {other}, "
                f"no answer {self.no_answer} (timeouts {self.timeouts}), "
                f"max latency {self.max_latency:.2f}s, p99 {self.p99:.2f}s")


def examples(calls: list[Call], pred, n=5) -> str:
    picked = [c for c in calls if pred(c)][:n]
    return "\n".join("    " + c.describe() for c in picked)


# ----------------------------------------------------------------------------
# What was written: acknowledged writes are there, no half-written change
# ----------------------------------------------------------------------------
def in_list(ids) -> str:
    return ",".join("'" + i.replace("'", "''") + "'" for i in ids)


def present_ids(db: Database, table: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        found.update(r[0] for r in db.query(f"SELECT id FROM {table} WHERE id IN ({in_list(chunk)})"))
    return found


# Each query counts rows that a torn (half-committed) write would leave.
INVARIANTS = {
    "asset without its creator as collaborator":
        "SELECT count(*) FROM assets a WHERE a.created_by IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = a.created_by)",
    "asset without its asset.created audit event":
        "SELECT count(*) FROM assets a WHERE NOT EXISTS (SELECT 1 FROM audit_events e "
        "WHERE e.action = 'asset.created' AND e.target_id = a.id)",
    "asset.created audit event without its asset":
        "SELECT count(*) FROM audit_events e WHERE e.action = 'asset.created' AND NOT EXISTS "
        "(SELECT 1 FROM assets a WHERE a.id = e.target_id)",
    "collaborator row without its asset":
        "SELECT count(*) FROM asset_collaborators c WHERE NOT EXISTS "
        "(SELECT 1 FROM assets a WHERE a.id = c.asset_id)",
    "invitation without its queued email":
        "SELECT count(*) FROM invitations i WHERE NOT EXISTS (SELECT 1 FROM mail_outbox m "
        "WHERE m.kind = 'invitation' AND m.recipient = i.email)",
    "invitation email without its invitation":
        "SELECT count(*) FROM mail_outbox m WHERE m.kind = 'invitation' AND NOT EXISTS "
        "(SELECT 1 FROM invitations i WHERE i.email = m.recipient)",
    "invitation without its invitation.created audit event":
        "SELECT count(*) FROM invitations i WHERE NOT EXISTS (SELECT 1 FROM audit_events e "
        "WHERE e.action = 'invitation.created' AND e.after LIKE '%' || i.id || '%')",
    "user without a user.registered audit event":
        "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_events e "
        "WHERE e.action = 'user.registered' AND e.target_id = u.id)",
    "user without the verification email":
        "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM mail_outbox m "
        "WHERE m.kind = 'verify_email' AND m.recipient = u.email)",
}


def invariant_violations(db: Database) -> dict[str, int]:
    bad = {}
    for name, sql in INVARIANTS.items():
        n = db.scalar(sql)
        if n:
            bad[name] = n
    return bad


def run_scenario(name: str, body: Callable[[], list[str]]) -> int:
    """Runs one scenario: prints its summary lines, returns 0 or 1."""
    install_signal_handlers()
    started = time.time()
    try:
        summary = body()
        log(f"PASS {name} ({time.time() - started:.0f} s)")
        for line in summary:
            print(f"  {line}", flush=True)
        return 0
    except Failure as e:
        STATE["failed"] = True
        log(f"FAIL {name} ({time.time() - started:.0f} s): {e}")
        return 1
    except KeyboardInterrupt:
        STATE["failed"] = True
        log(f"FAIL {name}: interrupted")
        return 130
    except SystemExit as e:
        STATE["failed"] = True
        log(f"FAIL {name}: stopped by a signal (exit {e.code}), e.g. run.sh's time limit")
        return e.code if isinstance(e.code, int) else 1
    except Exception:
        STATE["failed"] = True
        log(f"FAIL {name}: the harness itself broke:")
        import traceback
        traceback.print_exc()
        return 1
    finally:
        cleanup_all()
