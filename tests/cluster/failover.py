"""deploy/cluster.sh test: a throwaway cluster (var/cluster-test) under retrying, idempotent
create load over HTTPS through the real client, while its parts are killed:

1. kill -9 the primary's postmaster: Patroni fails over; writes come back by themselves.
2. kill -9 one hotline server: nginx sends everything to the other one.
3. `cluster.sh up` heals: the server is started again, the old primary has rejoined as a replica.
4. a planned `patronictl switchover`: no request fails beyond the client's retries.
5. every acknowledged case exists exactly once; no case exists twice.
6. faults: a server dead (the other answers), etcd down (no failover, the primary keeps
   serving), the replica stopped (synchronous mode: a create is never acknowledged by the
   primary alone; it is once the replica is back).

Prints the figures (seconds writes were refused, requests, retries) for bench/RESULTS.md.
Exit status 0 when everything held. Usage: failover.py ROOT
"""
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = sys.argv[1]
CL = os.path.join(ROOT, "var", "cluster-test")
ENV_FILE = CL + ".env"
CLUSTER = os.path.join(ROOT, "deploy", "cluster.sh")
CLIENT = os.environ.get("HOTLINE_CLIENT_BIN", os.path.join(ROOT, "build", "client", "hotline"))
RUN = "%x" % int(time.time())
ENV = dict(os.environ, HOTLINE_CLUSTER_DIR=CL)
WORKERS = 4
failures = []


def say(msg):
    print("cluster test: %s" % msg, flush=True)


def check(ok, what):
    say(("ok:   " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def cluster(*args, timeout=300):
    r = subprocess.run([CLUSTER, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if r.returncode not in (0, 3):
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("cluster.sh %s failed (exit %d)" % (" ".join(args), r.returncode))
    return r


def status():
    return json.loads(cluster("status", "--json").stdout)


def primary():
    """The primary node's status entry, or None."""
    nodes = [p for p in status()["postgres"] if p["role"] == "primary"]
    return nodes[0] if len(nodes) == 1 else None


def client_env():
    e = dict(os.environ)
    with open(ENV_FILE) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            e[k] = v
    return e


def hotline(*args, timeout=60):
    return subprocess.run([CLIENT, "--timeout", str(timeout), *args], env=client_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout + 30)


def wait_until(what, seconds, fn):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit("cluster test: %s did not happen within %d s" % (what, seconds))


def sql(query):
    """Runs query in the hotline database as the superuser, through HAProxy's primary port."""
    ports = dict(line.strip().split("=", 1) for line in open(os.path.join(CL, "ports.env")))
    password = open(os.path.join(CL, "secrets", "postgres")).read().strip()
    r = subprocess.run(["/usr/lib/postgresql/15/bin/psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1",
                        "-p", ports["PRIMARY_PORT"], "-U", "postgres", "-d", "hotline", "-c", query],
                       env=dict(os.environ, PGPASSWORD=password), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60, check=True)
    return [line.split("|") for line in r.stdout.splitlines() if line]


class Load:
    """WORKERS threads creating cases one after another through the client, each with its own
    Idempotency-Key; the client retries lost requests and 503s within its timeout."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next = 0
        self.results = []  # (n, started, ended, exit status, attempts)
        self.stopping = False
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(WORKERS)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join()

    def work(self):
        while not self.stopping:
            with self.lock:
                n = self.next
                self.next += 1
            started = time.monotonic()
            r = hotline("submit", "--text", "failover-test %s %d" % (RUN, n), "--key",
                        "failover-%s-%d" % (RUN, n), "--json", timeout=90)
            with self.lock:
                self.results.append((n, started, time.monotonic(), r.returncode, r.stderr))

    def acked(self, since=0.0):
        with self.lock:
            return [x for x in self.results if x[3] == 0 and x[2] >= since]

    def failed(self, since=0.0):
        with self.lock:
            return [x for x in self.results if x[3] != 0 and x[2] >= since]

    def longest_gap(self, since, until):
        """The longest time in [since, until] during which no create was acknowledged."""
        ends = sorted([since] + [x[2] for x in self.acked(since) if x[2] <= until] + [until])
        return max(b - a for a, b in zip(ends, ends[1:]))


def kill(pid):
    os.kill(pid, signal.SIGKILL)


def sync_standby_known():
    """True once Patroni has recorded a synchronous standby in etcd: in strict synchronous mode
    only that node may be promoted, so a primary killed before it is recorded has no successor
    (a cluster up in 10 s on a quiet machine was killed that early: no failover in 90 s)."""
    r = subprocess.run(["patronictl", "-c", os.path.join(CL, "etc", "pg1.yml"),
                        "list"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=30)
    return "Sync Standby" in r.stdout


def scenario_failover(load):
    wait_until("a synchronous standby recorded by Patroni", 60, sync_standby_known)
    old = primary()
    say("killing the primary's postmaster (%s, pid %d) with SIGKILL" % (old["name"], old["pid"]))
    t_kill = time.monotonic()
    kill(old["pid"])
    new = wait_until("a failover", 90, lambda: (p := primary()) and p["name"] != old["name"] and p)
    t_promoted = time.monotonic()
    wait_until("a create acknowledged after the failover", 90,
               lambda: [x for x in load.acked(t_promoted) if x[1] >= t_promoted])
    t_back = time.monotonic()
    say("failover: %s is primary %.1f s after the kill" % (new["name"], t_promoted - t_kill))
    time.sleep(2)
    refused = load.longest_gap(t_kill, time.monotonic())
    say("FIGURE writes refused after kill -9 of the primary: %.1f s (new primary after %.1f s,"
        " first new create acknowledged after %.1f s)" % (refused, t_promoted - t_kill,
                                                         t_back - t_kill))
    return refused


def scenario_server_kill(load):
    server = status()["servers"][0]
    say("killing the hotline server on port %d (pid %d) with SIGKILL" % (server["port"],
                                                                        server["pid"]))
    t_kill = time.monotonic()
    kill(server["pid"])
    time.sleep(4)
    refused = load.longest_gap(t_kill, time.monotonic())
    check(len(load.acked(t_kill + 1)) > 0, "creates go on through the other server")
    say("FIGURE writes refused after kill -9 of a hotline server: %.1f s" % refused)
    return refused


def scenario_heal():
    t = time.monotonic()
    cluster("up")
    s = status()
    roles = sorted(p["role"] for p in s["postgres"])
    check(roles == ["primary", "replica"], "after up: one primary, one replica (%s)" % roles)
    check(all(p["pid"] for p in s["postgres"]), "after up: both postmasters run")
    check(all(x["pid"] for x in s["servers"]), "after up: both hotline servers run")
    say("up healed the cluster in %.1f s" % (time.monotonic() - t))


def scenario_switchover(load):
    old = primary()
    candidate = [p for p in status()["postgres"] if p["role"] == "replica"][0]
    t = time.monotonic()
    r = subprocess.run(["patronictl", "-c", os.path.join(CL, "etc", old["name"] + ".yml"),
                        "switchover", "--leader", old["name"], "--candidate", candidate["name"],
                        "--force"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=120)
    check(r.returncode == 0, "patronictl switchover ran: %s" % r.stdout.strip()[-200:])
    wait_until("the switchover", 60, lambda: (p := primary()) and p["name"] == candidate["name"])
    wait_until("the old primary streaming as a replica", 90,
               lambda: sorted(p["role"] for p in status()["postgres"]) == ["primary", "replica"])
    time.sleep(3)
    refused = load.longest_gap(t, time.monotonic())
    check(load.failed(t) == [], "switchover: no create failed beyond the client's retries")
    say("FIGURE writes paused during the planned switchover: %.1f s" % refused)
    return refused


def verify(load):
    acked = {x[0] for x in load.acked()}
    rows = sql("SELECT text, count(*) FROM cases WHERE text LIKE 'failover-test %s %%' GROUP BY text"
               % RUN)
    counts = {int(text.rsplit(" ", 1)[1]): int(n) for text, n in rows}
    missing = sorted(n for n in acked if counts.get(n, 0) == 0)
    doubled = sorted(n for n, c in counts.items() if c > 1)
    check(not missing, "every acknowledged case exists (%d acknowledged, missing %s)"
          % (len(acked), missing[:10]))
    check(not doubled, "no case exists twice (%s)" % doubled[:10])
    failed = load.failed()
    check(not failed, "no create failed beyond retries (%d failed%s)" % (
        len(failed), ": " + failed[0][4].strip()[-300:] if failed else ""))
    say("FIGURE creates: %d acknowledged, %d failed, %d cases in the database"
        % (len(acked), len(failed), len(counts)))


def fault_server_dead():
    server = status()["servers"][1]
    kill(server["pid"])
    answers = [hotline("me", timeout=20).returncode for _ in range(10)]
    check(answers == [0] * 10, "a hotline server dead: the other one answers (%s)" % answers)
    cluster("up")


def fault_etcd_down():
    before = primary()
    kill(status()["etcd"]["pid"])
    time.sleep(14)  # longer than the leader key's ttl (10 s)
    after = primary()
    r = hotline("submit", "--text", "etcd-down %s" % RUN, "--key", "etcd-down-%s" % RUN,
                timeout=20)
    check(after is not None and after["name"] == before["name"],
          "etcd down: no failover, %s still primary" % before["name"])
    check(r.returncode == 0, "etcd down: the primary keeps serving creates (%s)" % r.stderr.strip())
    cluster("up")


def post_case(text, key, timeout):
    """POST /v1/cases through nginx with Python's own HTTPS client (no retries): its status."""
    env = client_env()
    ctx = ssl.create_default_context(cafile=env["HOTLINE_CA"])
    req = urllib.request.Request(env["HOTLINE_URL"] + "/v1/cases", method="POST",
                                 data=json.dumps({"text": text}).encode(),
                                 headers={"Authorization": "Bearer " + env["HOTLINE_TOKEN"],
                                          "Content-Type": "application/json",
                                          "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def fault_replica_stopped():
    """Synchronous mode, strict: with the replica gone a commit waits for it. A create is then
    never acknowledged: it waits (the client gives up, exit 3), and when the wait is cancelled
    (an operator's pg_cancel_backend) PostgreSQL reports the commit as done with only a
    WARNING: the server must not turn that into a 2xx."""
    replica = [p for p in status()["postgres"] if p["role"] == "replica"][0]
    patroni_pid = int(open(os.path.join(CL, "run", "patroni-%s.pid" % replica["name"])).read())
    os.kill(patroni_pid, signal.SIGTERM)  # Patroni stops its PostgreSQL, then itself
    wait_until("the replica stopped", 60,
               lambda: [p for p in status()["postgres"] if p["name"] == replica["name"]][0]["pid"]
               is None)
    text, key = "replica-stopped %s" % RUN, "replica-stopped-%s" % RUN
    t = time.monotonic()
    r = hotline("submit", "--text", text, "--key", key, "--json", timeout=8)
    check(r.returncode == 3, "replica stopped: a create waits, not acknowledged (exit %d after "
          "%.1f s: %s)" % (r.returncode, time.monotonic() - t, r.stderr.strip()[-160:]))
    answer = []
    waiting = threading.Thread(target=lambda: answer.append(
        post_case("cancelled %s" % RUN, "cancelled-%s" % RUN, 60)))
    waiting.start()
    # the create the client gave up on still waits too: two waiters
    wait_until("a second commit waiting for the replica", 30, lambda: int(sql(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")[0][0]) >= 2)
    sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
    waiting.join()
    check(answer and not 200 <= answer[0] < 300,
          "replica stopped: a commit whose wait was cancelled is not acknowledged (%s)" % answer)
    cluster("up")
    r = hotline("submit", "--text", text, "--key", key, "--json", timeout=60)
    rows = sql("SELECT count(*) FROM cases WHERE text = '%s'" % text)
    check(r.returncode == 0 and rows == [["1"]],
          "replica back: the retried create is acknowledged, once (exit %d, %s cases)"
          % (r.returncode, rows))


def main():
    started = time.monotonic()
    cluster("down")
    shutil.rmtree(CL, ignore_errors=True)
    t = time.monotonic()
    cluster("up")
    say("FIGURE a new cluster up in %.1f s" % (time.monotonic() - t))
    try:
        load = Load()
        load.start()
        try:
            wait_until("the first creates", 30, lambda: len(load.acked()) >= 10)
            scenario_failover(load)
            scenario_server_kill(load)
            scenario_heal()
            scenario_switchover(load)
        finally:
            load.stop()
        verify(load)
        fault_server_dead()
        fault_etcd_down()
        fault_replica_stopped()
    finally:
        cluster("down")
    say("%s in %.0f s" % ("FAILED: " + "; ".join(failures) if failures else "all passed",
                          time.monotonic() - started))
    if not failures:
        shutil.rmtree(CL, ignore_errors=True)
        os.unlink(ENV_FILE)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
