"""bench/streams.py URL ADMIN_TOKEN N OUT: holds N open GET /v1/stream connections while a
benchmark runs, as N department clerks would (one user per department, streams spread over the
departments round-robin, so each stream carries its department's events only). Reads every
stream as fast as it comes on one thread (selectors). On SIGTERM writes a summary to OUT:
streams opened, still open at the end, events read (total, per stream min/max), streams that
ended early, and the slowest first byte. Used by bench/intake.sh with HL_BENCH_STREAMS=N."""
import json
import selectors
import signal
import socket
import sys
import time
import urllib.request


def api(url, token, method, path, body=None):
    req = urllib.request.Request(url + path, json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Authorization": "Bearer " + token,
                                                         "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def open_stream(host, port, token):
    """One stream, opened only once the one before it is answered (a burst of 500 new tokens from
    one address would spend the server's budget of unknown-token lookups, auth_fail_budget);
    tried again on a refusal. Returns the socket and what it read past the status line."""
    for attempt in range(50):
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(("GET /v1/stream HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n\r\n" % token).encode())
        first = s.recv(65536)
        if first.startswith(b"HTTP/1.1 200"):
            return s, first
        s.close()
        time.sleep(0.2)
    raise SystemExit("GET /v1/stream refused 50 times: %r" % first[:200])


def main():
    url, admin, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    host, port = url.split("//")[1].split(":")
    depts = [d["code"] for d in api(url, admin, "GET", "/v1/departments")["items"]]
    tokens = [api(url, admin, "POST", "/v1/users", {"name": "bench-clerk-" + d, "role": "department",
                                                     "department": d})["token"] for d in depts]
    sel = selectors.DefaultSelector()
    streams = []
    t0 = time.monotonic()
    for i in range(n):
        s, first = open_stream(host, int(port), tokens[i % len(tokens)])
        s.setblocking(False)
        st = {"events": first.count(b"\nevent: case\n"), "open": True, "tail": first[-16:], "ok": True}
        streams.append(st)
        sel.register(s, selectors.EVENT_READ, st)
    opened = time.monotonic() - t0
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    while not stop:
        for key, _ in sel.select(timeout=0.5):
            st = key.data
            try:
                data = key.fileobj.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                st["open"] = False
                sel.unregister(key.fileobj)
                key.fileobj.close()
                continue
            buf = st["tail"] + data
            st["events"] += buf.count(b"\nevent: case\n")
            st["tail"] = buf[-16:]
    events = [st["events"] for st in streams]
    json.dump({"streams": n, "answered_200": sum(1 for st in streams if st["ok"]),
               "open_at_end": sum(1 for st in streams if st["open"]),
               "ended_early": sum(1 for st in streams if not st["open"]),
               "events": sum(events), "per_stream_min": min(events), "per_stream_max": max(events),
               "departments": len(depts), "seconds_to_open_all": round(opened, 2)}, open(out, "w"))


main()
