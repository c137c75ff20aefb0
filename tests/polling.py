"""Waiting for the server or the database to get somewhere, and reading its /metrics, one way
for the integration tests (test_contract keeps its own: it is written against API.md alone)."""
import re
import time


def wait_for(check, timeout=5.0, what=None):
    """Polls check() every 50 ms until it returns a true value, and returns that value. At the
    timeout: fails naming `what` when given, else returns the last (false) value for the caller
    to assert on."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            assert what is None, "timed out after %s s waiting for %s" % (timeout, what)
            return got
        time.sleep(0.05)


def metric(server, name):
    """The value of the series `name` (any labels) in the server's /metrics."""
    status, _, text = server.request("GET", "/metrics")
    assert status == 200
    m = re.search(r"^%s(?:\{[^}]*\})? ([0-9.e+]+)$" % re.escape(name), text, re.M)
    assert m, "no %s in /metrics" % name
    return float(m.group(1))
