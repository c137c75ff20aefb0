"""Fixtures for the integration and e2e tests: a private PostgreSQL 15 cluster and the real server.

Two ways to run:
- `deploy/local.sh test` starts a throwaway cluster and passes it in HOTLINE_TEST_PGDATA,
  HOTLINE_TEST_PGHOST (socket directory), HOTLINE_TEST_PGPORT and HOTLINE_TEST_PGLOG, with the
  sanitizer binaries in HOTLINE_SERVER_BIN and HOTLINE_CLIENT_BIN.
- `/usr/bin/python3 -m pytest tests/integration/test_x.py` from a developer shell: without those
  variables the session makes its own cluster in a temporary directory (as the `postgres` user
  when run as root) and removes it at the end. Binaries default to build/server/hotline-server
  and build/client/hotline. Server logs go to HOTLINE_TEST_LOGDIR (default var/log/test).

Cluster work goes through deploy/lib.sh, the functions deploy/local.sh uses too.
Every server's log is checked after each test and at the end: a sanitizer report
("ERROR: AddressSanitizer", "runtime error:", ...) or an unexpected exit fails the run.
"""
import contextlib
import ctypes
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "deploy" / "lib.sh"
SERVER_BIN = Path(os.environ.get("HOTLINE_SERVER_BIN") or ROOT / "build/server/hotline-server")
CLIENT_BIN = Path(os.environ.get("HOTLINE_CLIENT_BIN") or ROOT / "build/client/hotline")
LOG_DIR = Path(os.environ.get("HOTLINE_TEST_LOGDIR") or ROOT / "var/log/test")
APP_ROLE = "hotline"
SANITIZER_REPORT = re.compile(
    r"ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error:")

_names = itertools.count(1)
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    """In a child before exec: SIGKILL it when the test process dies, however it dies."""
    PR_SET_PDEATHSIG = 1
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def lib(*args):
    """Runs one deploy/lib.sh function; returns its stdout stripped, raises on failure."""
    r = subprocess.run(["bash", "-c", 'set -euo pipefail; . "$0"; "$@"', str(LIB), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("deploy/lib.sh %s failed (exit %d):\n%s"
                           % (" ".join(args), r.returncode, r.stderr))
    return r.stdout.strip()


def free_port():
    return int(lib("hl_free_port"))


def unique_name(prefix):
    """A name no other object of this session has: `<prefix>_<pid>_<n>`."""
    return "%s_%d_%d" % (prefix, os.getpid(), next(_names))


class Headers(dict):
    """Response headers; lookups ignore case, as HTTP does."""

    def __init__(self, pairs=()):
        super().__init__()
        for k, v in pairs:
            k = k.lower()
            self[k] = self[k] + ", " + v if k in self else v

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)


# --- PostgreSQL ------------------------------------------------------------------------------

class Cluster:
    """A running PostgreSQL cluster.

    .conninfo: superuser (postgres) access over the unix socket to .dbname, the session's
    database that the `server` fixture runs on. .app_conninfo(db) is what a server uses:
    TCP on 127.0.0.1 as the `hotline` role with a password (scram), owner of its database.
    """

    def __init__(self, datadir, sockdir, port, logfile, owned_dir=None):
        self.datadir, self.sockdir, self.port = str(datadir), str(sockdir), int(port)
        self.logfile, self.owned_dir = str(logfile), owned_dir
        self.password = os.urandom(16).hex()
        lib("hl_pg_app_role", self.sockdir, str(self.port), APP_ROLE, self.password)
        self.dbname = self.new_database()

    @classmethod
    def make(cls):
        """A new cluster in a temporary directory; .destroy() removes it."""
        base = tempfile.mkdtemp(prefix="hotline-test-")
        os.chmod(base, 0o711)  # the postgres user must reach its data directory
        try:
            port = free_port()
            sockdir = lib("hl_pg_sockdir", base + "/run", str(port))
            lib("hl_pg_create", base + "/pg", "throwaway")
            lib("hl_pg_configure", base + "/pg", str(port), sockdir)
            lib("hl_pg_start", base + "/pg", base + "/postgresql.log")
            return cls(base + "/pg", sockdir, port, base + "/postgresql.log", owned_dir=base)
        except BaseException:
            subprocess.run(["bash", "-c", '. "$0"; hl_pg_stop "$1" immediate', str(LIB),
                            base + "/pg"])
            shutil.rmtree(base, ignore_errors=True)
            raise

    @classmethod
    def from_env(cls):
        """The cluster that deploy/local.sh test started, or None."""
        e = os.environ
        if not e.get("HOTLINE_TEST_PGDATA"):
            return None
        return cls(e["HOTLINE_TEST_PGDATA"], e["HOTLINE_TEST_PGHOST"], e["HOTLINE_TEST_PGPORT"],
                   e["HOTLINE_TEST_PGLOG"])

    @property
    def conninfo(self):
        return self.superuser_conninfo(self.dbname)

    def superuser_conninfo(self, db):
        sockdir = self.sockdir.replace("\\", "\\\\").replace("'", "\\'")
        return "host='%s' port=%d user=postgres dbname=%s" % (sockdir, self.port, db)

    def app_conninfo(self, db=None):
        return "host=127.0.0.1 port=%d dbname=%s user=%s password=%s" % (
            self.port, db or self.dbname, APP_ROLE, self.password)

    def new_database(self):
        """Creates an empty database owned by the `hotline` role; returns its name."""
        name = unique_name("hl")
        lib("hl_pg_app_db", self.sockdir, str(self.port), name, APP_ROLE)
        return name

    def psql(self, sql, db=None):
        """Runs SQL as superuser in db (default: the session database). Returns the output
        stripped, one line per row, fields split by '|' (psql -A -t). Raises on an SQL error."""
        return lib("hl_psql", self.sockdir, str(self.port), db or self.dbname, sql)

    def psql_command(self, db):
        """psql as superuser on db, quiet, stopping at the first error: add -c or feed stdin."""
        return [str(Path(os.environ.get("HL_PG_BIN", "/usr/lib/postgresql/15/bin")) / "psql"), "-X", "-q",
                "-v", "ON_ERROR_STOP=1", "-d", self.superuser_conninfo(db)]

    @contextlib.contextmanager
    def table_locked(self, table, mode, db=None):
        """Holds `LOCK TABLE table IN mode MODE` (e.g. "ACCESS EXCLUSIVE") from a superuser
        session of db for the length of the block; the lock is granted when the block starts.
        What waits for it inside PostgreSQL stays in flight until the block ends."""
        granted = "".join(w.capitalize() for w in mode.split()) + "Lock"
        locker = subprocess.Popen(
            self.psql_command(db or self.dbname),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        locker.stdin.write("BEGIN; LOCK TABLE %s IN %s MODE;\n" % (table, mode))
        locker.stdin.flush()
        try:
            deadline = time.monotonic() + 10
            while self.psql("SELECT count(*) FROM pg_locks WHERE granted AND relation = '%s'::regclass "
                            "AND mode = '%s'" % (table, granted), db=db) != "1":
                assert time.monotonic() < deadline, "LOCK TABLE %s was never granted" % table
                time.sleep(0.05)
            yield
        finally:
            locker.stdin.write("COMMIT;\n")  # a stopped cluster: psql fails it and exits
            locker.stdin.close()
            locker.wait(10)

    def stop(self, mode="fast"):
        lib("hl_pg_stop", self.datadir, mode)

    def start(self):
        lib("hl_pg_start", self.datadir, self.logfile)

    def destroy(self):
        if self.owned_dir:
            self.stop("immediate")
            shutil.rmtree(self.owned_dir, ignore_errors=True)


# --- the server ------------------------------------------------------------------------------

_live_servers = []


class Server:
    """One hotline-server process on its own port and database.

    .url, .admin_token, .bin, .log_path, .proc (the Popen of `serve`, None when stopped).
    Extra configuration keys go on the command line as --key=value.
    """

    def __init__(self, cluster, db=None, **config):
        if not SERVER_BIN.exists():
            pytest.fail("no server binary at %s: build first (cmake -S . -B build && "
                        "cmake --build build -j2) or set HOTLINE_SERVER_BIN" % SERVER_BIN)
        self.bin, self.cluster = str(SERVER_BIN), cluster
        self.db = db or cluster.new_database()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = str(LOG_DIR / ("%s.log" % unique_name("server")))
        self.flags = ["--%s=%s" % kv for kv in config.items()]
        self.proc = None
        self.expected_exit = False
        self.run_command("migrate")
        self.admin_token = self.run_command("create-admin", unique_name("admin")).strip()
        assert re.fullmatch(r"\S{22,}", self.admin_token), \
            "create-admin printed %r, not one token" % self.admin_token
        self.start()
        _live_servers.append(self)

    def env(self):
        return dict(os.environ, HOTLINE_DB=self.cluster.app_conninfo(self.db))

    def run_command(self, *args):
        """Runs `hotline-server [flags] ARGS` (migrate, create-admin ...); returns its stdout.
        Its stderr goes to the log."""
        with open(self.log_path, "ab") as log:
            r = subprocess.run([self.bin, *self.flags, *args], env=self.env(), timeout=120,
                               stdout=subprocess.PIPE, stderr=log)
        assert r.returncode == 0, "hotline-server %s exited %d; log %s:\n%s" % (
            " ".join(args), r.returncode, self.log_path, self.log_tail())
        return r.stdout.decode()

    def start(self, timeout=30):
        """Starts `serve` and waits until /readyz answers 200."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.bin, "--port=%d" % self.port, *self.flags, "serve"], env=self.env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent)
        self.expected_exit = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("the server exited %d at start:\n%s"
                            % (self.proc.returncode, self.log_tail()))
            try:
                if self.request("GET", "/readyz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail("the server was not ready within %d s:\n%s" % (timeout, self.log_tail()))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends sig and waits for the exit; returns the exit status (negative: killed by a
        signal). Raises if the server is still running after timeout seconds."""
        if self.proc is None:
            return None
        self.expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the server ignored signal %d for %d s" % (sig, timeout))
        self.proc = None
        return rc

    def send_signal(self, sig):
        """Sends sig without waiting; the exit that may follow is expected (see .stop)."""
        self.expected_exit = True
        self.proc.send_signal(sig)

    def restart(self):
        """SIGTERM, wait, start again on the same port and database; the exit must be 0."""
        rc = self.stop()
        assert rc == 0, "the server exited %s on SIGTERM:\n%s" % (rc, self.log_tail())
        self.start()

    def request(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
        """One HTTP request on a new connection. body: a value sent as JSON; raw: bytes or str
        sent as they are (Content-Type application/json unless headers say otherwise); token:
        sent as `Authorization: Bearer`, none when None. Returns (status, headers with
        case-insensitive keys, the parsed JSON when the reply is JSON, else its text)."""
        hdrs = {}
        data = None
        if raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            hdrs["Content-Type"] = "application/json"
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            rh = Headers(resp.getheaders())
        finally:
            conn.close()
        if "json" in rh.get("content-type", "") and payload:
            try:
                return resp.status, rh, json.loads(payload)
            except ValueError:
                raise AssertionError("%s %s: invalid JSON body %r" % (method, path, payload[:300]))
        return resp.status, rh, payload.decode("utf-8", "replace")

    def make_user(self, role, department=None):
        """Creates a user with the admin token; returns its token. A `department` user gets
        department urban_mgmt unless one is given."""
        if role == "department" and department is None:
            department = "urban_mgmt"
        body = {"name": unique_name(role), "role": role}
        if department is not None:
            body["department"] = department
        status, _, reply = self.request("POST", "/v1/users", body, token=self.admin_token)
        assert status == 201, "POST /v1/users %s -> %d %s" % (body, status, reply)
        return reply["token"]

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, since=0):
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def sanitizer_report(self, since=0):
        """The log from the first sanitizer report on (after offset since), or None."""
        text = self.log_text(since)
        m = SANITIZER_REPORT.search(text)
        return text[max(0, m.start() - 200):][:6000] if m else None

    def shutdown(self):
        """Session end: SIGTERM must exit 0 and the whole log must be free of sanitizer reports."""
        _live_servers.remove(self)
        rc = self.stop() if self.proc is not None else 0
        report = self.sanitizer_report()
        assert report is None, "sanitizer report in %s:\n%s" % (self.log_path, report)
        assert rc == 0, "the server exited %s on SIGTERM:\n%s" % (rc, self.log_tail())


# --- fixtures --------------------------------------------------------------------------------

def _interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def pytest_configure(config):
    config.addinivalue_line("markers", "smoke: quick checks also run against the normal build")
    # `timeout`, CI and terminals end a run with SIGTERM or SIGHUP: unwind like Ctrl-C, so that
    # the fixtures' finalizers stop the servers and remove the clusters.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


@pytest.fixture(scope="session")
def make_cluster():
    """make_cluster() -> a new private Cluster (for tests that stop or break PostgreSQL);
    each is removed at the end of the session."""
    made = []

    def make():
        made.append(Cluster.make())
        return made[-1]

    yield make
    for c in made:
        c.destroy()


@pytest.fixture(scope="session")
def pg(make_cluster):
    """The session's cluster: the one local.sh test started, or a new one."""
    return Cluster.from_env() or make_cluster()


@pytest.fixture(scope="session")
def make_server():
    """make_server(cluster, db=None, **config) -> a new Server on database db of cluster (default:
    a fresh one), with extra configuration keys (e.g. max_body=1024); each is shut down at the
    end of the session."""
    made = []

    def make(cluster, db=None, **config):
        made.append(Server(cluster, db, **config))
        return made[-1]

    make.made = made
    yield make
    for s in made:
        if s in _live_servers:
            s.shutdown()


@pytest.fixture(scope="module", autouse=True)
def _module_servers(make_server):
    """The servers a module made are shut down (and checked) when the module ends, all but the
    shared one: each holds some twenty database connections, and a session of a hundred
    servers would run the cluster out of connection slots (and the machine out of memory)."""
    before = len(make_server.made)
    yield
    for s in make_server.made[before:]:
        if s in _live_servers and not getattr(s, "shared", False):
            s.shutdown()


@pytest.fixture(scope="session")
def server(pg, make_server):
    """The shared server: migrated, with an admin, on the session database pg.dbname. It keeps
    the routing model it trains from the shipped examples at start (routing_retrain=0): the
    signs, returns and visits of every other module would otherwise retrain it at some moment
    of the run, and test_learned_routing.py would meet one model or the other."""
    s = make_server(pg, pg.dbname, routing_retrain=0)
    s.shared = True
    return s


@pytest.fixture(autouse=True)
def _watch_servers():
    """After each test: a sanitizer report in a server's log, or a server that died without
    being stopped, fails that test (the dead server is started again for the next tests)."""
    marks = {id(s): s.log_size() for s in _live_servers}
    yield
    problems = []
    for s in list(_live_servers):
        report = s.sanitizer_report(marks.get(id(s), 0))
        if report:
            problems.append("sanitizer report in %s:\n%s" % (s.log_path, report))
        if s.proc is not None and s.proc.poll() is not None and not s.expected_exit:
            problems.append("the server exited %d during the test:\n%s"
                            % (s.proc.returncode, s.log_tail()))
            s.start()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session", name="free_port")
def free_port_fixture():
    """free_port() -> a port nothing listens on (20000-29999)."""
    return free_port


@pytest.fixture(scope="session")
def client_bin():
    """Path of the `hotline` client binary."""
    if not CLIENT_BIN.exists():
        pytest.fail("no client binary at %s: build first or set HOTLINE_CLIENT_BIN" % CLIENT_BIN)
    return str(CLIENT_BIN)


@pytest.fixture
def run_client(server, client_bin):
    """run_client(args, env=None, input=None) -> CompletedProcess (text, stdout and stderr
    captured) of `hotline ARGS` with HOTLINE_URL and HOTLINE_TOKEN of the server's admin,
    overridden by env."""

    def run(args, env=None, input=None):
        e = dict(os.environ, HOTLINE_URL=server.url, HOTLINE_TOKEN=server.admin_token)
        e.update(env or {})
        return subprocess.run([client_bin, *args], env=e, input=input, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)

    return run
