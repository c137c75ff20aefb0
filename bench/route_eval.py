#!/usr/bin/python3
"""Measure routing accuracy on a labelled JSONL file: the rules alone, the model alone, combined.

    bench/route_eval.py ../shared/data/routing-dev.jsonl            # via the server's dry run
    bench/route_eval.py --offline ../shared/data/routing-dev.jsonl  # via build/bench/route_offline
    bench/route_eval.py --offline --loo bench/routing/holdout-8.jsonl  # model trained on the others

Each line of the file is a case: "text" and optionally "title", "district", "channel", "type",
"urgent", "category", and the expected "department" (lines without one are skipped); "id"
names the line in --misses.

Online (default): each case's fields go to POST $HOTLINE_URL/v1/route?explain=true with
"Authorization: Bearer $HOTLINE_TOKEN" (deploy/local.sh writes both into var/local.env; any
role may call the dry run). The answer is {"department", "method", "rule_id", "rule_name",
"matched", "suggestion", "rules", "model"}: the combined decision, what the rules alone decide
("rules") and the model's best guess ("suggestion"); nothing is created. The server's model
was trained on every shipped labelled file, so online numbers on those files are not held out.
429 and 503 answers are retried after their Retry-After (at most --retries times).

Offline (--offline): the same file through build/bench/route_offline with the rules of
sql/003_rules.sql (or --rules FILE: that SQL, or a JSON array of rule bodies), no server.
With --train FILE (repeatable) or --loo (every bench/routing/*.jsonl but the scored file), a
model is trained on those files, leaving out any text of the scored file, and the three
accuracies are reported: the model never saw the batch it is scored on.

Prints the accuracy, the unrouted count (no department) and the top confusions
(expected -> got, count); --misses lists every miss with the rule that decided it.
--min-accuracy P makes the exit status 1 when the (combined) accuracy is below P percent.
Exit status 2 for usage errors and when the server cannot be used.
Standard library only.
"""
import argparse
import collections
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASE_FIELDS = ("title", "text", "district", "channel", "type", "urgent", "category")


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def load_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                die("%s:%d: not JSON: %s" % (path, lineno, e))
            if not isinstance(obj, dict) or not obj.get("department") or not obj.get("text"):
                continue
            obj.setdefault("id", "%s:%d" % (os.path.basename(path), lineno))
            cases.append(obj)
    return cases


class Server:
    """One keep-alive connection to the server; reconnects when it drops."""

    def __init__(self, url, token, timeout):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("HOTLINE_URL must be http://host:port or https://host:port, got %r" % url)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.base = u.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        self.conn = cls(self.host, self.port, timeout=self.timeout)

    def post(self, path, body):
        """POST JSON; returns (status, parsed body or None, headers)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Authorization": "Bearer " + self.token}
        for attempt in range(2):  # one silent reconnect for a dropped keep-alive connection
            if self.conn is None:
                self._connect()
            try:
                self.conn.request("POST", self.base + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            parsed = None
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return resp.status, parsed, resp


def route_online(cases, args):
    url = os.environ.get("HOTLINE_URL")
    token = os.environ.get("HOTLINE_TOKEN")
    if not url or not token:
        die("HOTLINE_URL and HOTLINE_TOKEN must be set (see var/local.env after "
            "deploy/local.sh up), or use --offline")
    try:
        server = Server(url, token, args.timeout)
    except ValueError as e:
        die(str(e))
    results = []
    for case in cases:
        body = {k: case[k] for k in CASE_FIELDS if k in case and case[k] is not None}
        for attempt in range(args.retries + 1):
            try:
                status, answer, resp = server.post("/v1/route?explain=true", body)
            except OSError as e:
                die("cannot reach %s: %s" % (url, e))
            if status in (429, 503) and attempt < args.retries:
                try:
                    wait = float(resp.getheader("Retry-After", "1"))
                except ValueError:
                    wait = 1.0
                time.sleep(min(max(wait, 0.1), 10.0))
                continue
            break
        if status in (401, 403):
            die("the server refused the token (%d): check HOTLINE_TOKEN" % status)
        if status != 200 or not isinstance(answer, dict):
            err = answer.get("error") if isinstance(answer, dict) else None
            # A case the server refuses (e.g. a field it rejects) counts as unrouted.
            results.append({"department": None, "method": None, "rule_id": None, "rule_name": None,
                            "matched": [], "error": "%d %s" % (status, json.dumps(err, ensure_ascii=False))})
            continue
        results.append(answer)
    return results


def route_offline(path, args):
    exe = args.route_offline or os.path.join(ROOT, "build", "bench", "route_offline")
    rules = args.rules or os.path.join(ROOT, "sql", "003_rules.sql")
    if not os.access(exe, os.X_OK):
        die("%s is missing: build it with `cmake --build build --target route_offline`" % exe)
    cmd = [exe, rules, path, "--json"]
    if args.departments:
        cmd += ["--departments", args.departments]
    train = list(args.train or [])
    if args.loo:
        here = os.path.join(ROOT, "bench", "routing")
        train += [os.path.join(here, f) for f in sorted(os.listdir(here))
                  if f.endswith(".jsonl") and os.path.realpath(os.path.join(here, f)) != os.path.realpath(path)]
    for f in train:
        cmd += ["--train", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        die("route_offline failed: %s" % out.stderr.strip())
    summary = json.loads(out.stdout)
    misses = []
    if args.misses:
        out = subprocess.run([c for c in cmd if c != "--json"] + ["--misses"], stdout=subprocess.PIPE, text=True)
        misses = [line for line in out.stdout.splitlines() if line.startswith(("MISS", "     "))]
    return summary, misses


def report(total, right, unrouted, confusions, top, label, three=None):
    """three: (rules right, model right) when a model took part; right is then the combined."""
    pct = 100.0 * right / total if total else 0.0
    print("%s: %d cases" % (label, total))
    if three:
        for name, n in (("rules alone", three[0]), ("model alone", three[1])):
            print("%s: %d/%d = %.1f%%" % (name, n, total, 100.0 * n / total if total else 0.0))
        print("combined: %d/%d = %.1f%%" % (right, total, pct))
    else:
        print("accuracy: %d/%d = %.1f%%" % (right, total, pct))
    print("unrouted: %d" % unrouted)
    if confusions:
        print("top confusions (expected -> got, count):")
        for pair, count in confusions[:top]:
            print("  %4d  %s" % (count, pair))
    return pct


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="labelled JSONL (text, department, ...)")
    ap.add_argument("--offline", action="store_true", help="use build/bench/route_offline, no server")
    ap.add_argument("--rules", help="offline: rules file (default sql/003_rules.sql)")
    ap.add_argument("--departments", help="offline: departments.json, for category defaults")
    ap.add_argument("--route-offline", help="offline: path of the route_offline binary")
    ap.add_argument("--train", action="append", help="offline: train the model on this labelled file too")
    ap.add_argument("--loo", action="store_true",
                    help="offline: train the model on every bench/routing/*.jsonl but the scored file")
    ap.add_argument("--misses", action="store_true", help="list every miss")
    ap.add_argument("--top", type=int, default=15, help="confusions to show (default 15)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    ap.add_argument("--retries", type=int, default=3, help="retries of a 429/503 answer (default 3)")
    ap.add_argument("--min-accuracy", type=float, help="exit 1 when the accuracy is below this percent")
    args = ap.parse_args()

    if args.offline:
        summary, misses = route_offline(args.file, args)
        for line in misses:
            print(line)
        confusions = [(c["pair"], c["count"]) for c in summary["confusions"]]
        if "combined_right" in summary:
            pct = report(summary["total"], summary["combined_right"], summary["unrouted"], confusions, args.top,
                         "offline (%d rules, model held out)" % summary["rules"],
                         (summary["right"], summary["model_right"]))
        else:
            pct = report(summary["total"], summary["right"], summary["unrouted"], confusions, args.top,
                         "offline (%d rules)" % summary["rules"])
    else:
        cases = load_cases(args.file)
        if not cases:
            die("%s holds no labelled case" % args.file)
        results = route_online(cases, args)
        right = unrouted = rules_right = model_right = 0
        conf = collections.Counter()
        for case, got in zip(cases, results):
            want, dept = case["department"], got.get("department")
            rules_right += (got.get("rules") or {}).get("department") == want
            model_right += (got.get("suggestion") or {}).get("department") == want
            if not dept:
                unrouted += 1
            if dept == want:
                right += 1
                continue
            conf["%s -> %s" % (want, dept or "(none)")] += 1
            if args.misses:
                how = ""
                if got.get("error"):
                    how = " (refused: %s)" % got["error"]
                elif got.get("method") == "rule":
                    how = " by rule %s %s @[%s]" % (got.get("rule_id"), got.get("rule_name"),
                                                   " ".join(got.get("matched") or []))
                elif got.get("method"):
                    how = " by %s" % got["method"]
                print("MISS %s: want %s, got %s%s" % (case["id"], want, dept or "(none)", how))
                print("     %s%s" % (case["title"] + " | " if case.get("title") else "", case["text"]))
        confusions = sorted(conf.items(), key=lambda kv: (-kv[1], kv[0]))
        pct = report(len(cases), right, unrouted, confusions, args.top,
                     "server %s" % os.environ.get("HOTLINE_URL"), (rules_right, model_right))
    if args.min_accuracy is not None and pct < args.min_accuracy:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
