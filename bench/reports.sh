#!/usr/bin/env bash
# bench/reports.sh: how fast the manager reports answer on a realistic database.
#
#   bench/reports.sh [N]        N generated cases (default 1000000), e.g. bench/reports.sh 10000000
#
# Starts its own PostgreSQL cluster and server (deploy/lib.sh) under $HL_BENCH_DIR (default
# var/bench-reports), builds the server there (RelWithDebInfo, -O2), fills a database with N
# cases spread over 5 years (bench/gen_cases.sh; kept between runs, so a second run of the same
# N only times), then times through HTTP, each after one warm-up call:
#   - the rates report by department for the last full month, and for the last 365 days
#     (JSON, and the month as CSV);
#   - the department inbox of the busiest department (p50/p99 over many calls);
#   - the overdue report; the hot spots of the last 7 days by district;
#   - the scorecard (month, its CSV, 365 days) and the bad reviews (month by department, category,
#     district; 365 days by category), API.md section 17;
#   - the intake aids (API.md 14-15): a caller's history (a phone with cases, one without), the
#     similar open cases of a report (worded freshly, worded like the generated cases, without a
#     district), and knowledge-base searches.
# Prints a table and writes it to $HL_BENCH_DIR/results-N.txt. Everything stops at the end;
# the data stays (remove $HL_BENCH_DIR to start over). Run it under `nice -n 10` on a shared
# machine: generating 10 million cases keeps both cores busy for a quarter of an hour.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$ROOT/deploy/lib.sh"

N=${1:-1000000}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/reports.sh [N]" >&2; exit 2; }
DIR=${HL_BENCH_DIR:-$ROOT/var/bench-reports}
DB=bench_$N
RUNS=${HL_BENCH_RUNS:-20}
INBOX_CALLS=${HL_BENCH_INBOX_CALLS:-2000}
BIN="$DIR/build/server/hotline-server"
PIDFILE="$DIR/server.pid"

cleanup() {
	hl_server_stop "$PIDFILE" || true
	hl_pg_stop "$DIR/pg" || true
}
trap cleanup EXIT

mkdir -p "$DIR/log"
chmod 755 "$DIR"
hl_pg_allow_traverse "$DIR"
hl_say "building $BIN"
hl_build "$ROOT" "$DIR/build" "$DIR/log/build.log" -DCMAKE_BUILD_TYPE=RelWithDebInfo

# A cluster sized for the machine rather than for a test: the reports read a few hundred MB.
if [[ ! -f $DIR/pg/PG_VERSION ]]; then
	hl_pg_create "$DIR/pg" throwaway
	cat >>"$DIR/pg/postgresql.conf" <<-'EOF'
	# bench/reports.sh
	shared_buffers = '2GB'
	effective_cache_size = '12GB'
	work_mem = '64MB'
	maintenance_work_mem = '1GB'
	max_wal_size = '16GB'
	checkpoint_timeout = '30min'
	EOF
fi
PG_PORT=$(hl_free_port)
PG_SOCK=$(hl_pg_sockdir "$DIR/run" "$PG_PORT")
hl_pg_configure "$DIR/pg" "$PG_PORT" "$PG_SOCK"
hl_pg_start "$DIR/pg" "$DIR/log/postgresql.log"
PASSWORD=$(hl_random_hex 16)
hl_pg_app_role "$PG_SOCK" "$PG_PORT" hotline "$PASSWORD"
SUPER="host=$PG_SOCK port=$PG_PORT user=postgres dbname=$DB"
export HOTLINE_DB="host=127.0.0.1 port=$PG_PORT dbname=$DB user=hotline password=$PASSWORD"

if [[ -z $(hl_psql "$PG_SOCK" "$PG_PORT" postgres "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]] ||
	[[ $(hl_psql "$PG_SOCK" "$PG_PORT" "$DB" "SELECT count(*) FROM cases" 2>/dev/null || echo 0) != "$N" ]]; then
	hl_psql "$PG_SOCK" "$PG_PORT" postgres "DROP DATABASE IF EXISTS $DB" >/dev/null
	hl_pg_app_db "$PG_SOCK" "$PG_PORT" "$DB" hotline
	# gen_cases.sh loads history into schema version 7; later migrations derive from it after
	rm -rf "$DIR/sql-7" && mkdir -p "$DIR/sql-7" && cp "$ROOT"/sql/00[1-7]_*.sql "$DIR/sql-7/"
	"$BIN" --sql_dir="$DIR/sql-7" migrate >>"$DIR/log/migrate.log" 2>&1
	hl_say "generating $N cases"
	gen_start=$SECONDS
	"$ROOT/bench/gen_cases.sh" "$SUPER" "$N" 5 2>&1 | tee "$DIR/log/gen-$N.log" >&2
	GEN_SECONDS=$((SECONDS - gen_start))
else
	GEN_SECONDS=$(sed -n 's/.* in \([0-9]*\) s$/\1/p' "$DIR/log/gen-$N.log" 2>/dev/null | tail -n1)
fi
"$BIN" migrate >>"$DIR/log/migrate.log" 2>&1 # also what landed since the data was generated

PORT=$(hl_free_port)
ADMIN=$("$BIN" create-admin "bench-admin-$(hl_random_hex 4)")
hl_server_start "$BIN" "$PORT" "$DIR/log/server.log" "$PIDFILE"
# Let the deadline sweeper mark the generated overdue clocks before timing.
hl_psql "$PG_SOCK" "$PG_PORT" "$DB" "SELECT sweep_deadlines(0.75)" >/dev/null

BUSIEST=$(hl_psql "$PG_SOCK" "$PG_PORT" "$DB" \
	"SELECT department FROM cases WHERE state IN ('dispatched', 'accepted', 'reopened')
	  GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")

# The intake aids: the district with the most open cases of the last 30 days, the newest case's
# phone, and the newest open case's text there (the similar search retells it).
DISTRICT=$(hl_psql "$PG_SOCK" "$PG_PORT" "$DB" \
	"SELECT district FROM cases WHERE created_at > now() - interval '30 days' AND district IS NOT NULL
	    AND state NOT IN ('closed', 'merged') GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
PHONE=$(hl_psql "$PG_SOCK" "$PG_PORT" "$DB" "SELECT caller_phone FROM cases ORDER BY id DESC LIMIT 1")
LIKE_TEXT=$(hl_psql "$PG_SOCK" "$PG_PORT" "$DB" \
	"SELECT text FROM cases WHERE district = '$DISTRICT' AND state NOT IN ('closed', 'merged')
	  ORDER BY id DESC LIMIT 1")

"$HL_PYTHON" - "$PORT" "$ADMIN" "$BUSIEST" "$RUNS" "$INBOX_CALLS" "$N" "${GEN_SECONDS:-?}" \
	"$DIR/results-$N.txt" "$DISTRICT" "$PHONE" "$LIKE_TEXT" "${HL_BENCH_AID_CALLS:-200}" <<-'EOF'
	import datetime, http.client, json, statistics, sys, time, urllib.parse
	port, admin, dept, runs, inbox_calls, n, gen_s, out, district, phone, like_text, aid_calls = sys.argv[1:]
	aid_calls = int(aid_calls)
	runs, inbox_calls = int(runs), int(inbox_calls)

	def call(path, token, expect=200, body=None):
	    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
	    t = time.perf_counter()
	    if body is None:
	        c.request("GET", path, headers={"Authorization": "Bearer " + token})
	    else:
	        c.request("POST", path, body=json.dumps(body, ensure_ascii=False).encode(), headers={
	            "Authorization": "Bearer " + token, "Content-Type": "application/json"})
	    r = c.getresponse()
	    body = r.read()
	    ms = (time.perf_counter() - t) * 1000
	    c.close()
	    if r.status != expect:
	        sys.exit("%s -> %d %s" % (path, r.status, body[:300]))
	    return ms, body

	def post(path, token, body):
	    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
	    c.request("POST", path, body=json.dumps(body), headers={
	        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
	    r = c.getresponse()
	    data = json.loads(r.read())
	    c.close()
	    return data

	clerk = post("/v1/users", admin, {"name": "bench-clerk", "role": "department", "department": dept})["token"]
	manager = post("/v1/users", admin, {"name": "bench-boss", "role": "manager"})["token"]
	today = datetime.date.today()
	month_to = today.replace(day=1)
	month_from = (month_to - datetime.timedelta(days=1)).replace(day=1)
	year_from = today - datetime.timedelta(days=365)

	def pct(xs, p):
	    xs = sorted(xs)
	    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

	rows = []
	def bench(name, path, token, count, post_body=None):
	    first, body = call(path, token, body=post_body)
	    times = [call(path, token, body=post_body)[0] for _ in range(count)]
	    rows.append((name, count, first, statistics.median(times), pct(times, 99), max(times), len(body)))
	    return body

	rates = "/v1/reports/rates?from=%s&to=%s&by=department"
	body = bench("rates, month %s, by department" % month_from.strftime("%Y-%m"),
	             rates % (month_from, month_to), manager, runs)
	month_cases = json.loads(body)["total"]["received"]
	bench("rates, same month, CSV", rates % (month_from, month_to) + "&format=csv", manager, runs)
	body = bench("rates, 365 days, by department", rates % (year_from, today), manager, max(5, runs // 2))
	year_cases = json.loads(body)["total"]["received"]
	bench("rates, 365 days, by district", "/v1/reports/rates?from=%s&to=%s&by=district" % (year_from, today),
	      manager, max(5, runs // 2))
	bench("inbox of %s (first page)" % dept, "/v1/inbox", clerk, inbox_calls)
	body = bench("overdue report", "/v1/reports/overdue", manager, runs)
	overdue = json.loads(body)["total"]
	bench("hot spots, 7 days, by district", "/v1/reports/hotspots?days=7&by=district", manager, runs)
	bench("scorecard, month", "/v1/reports/scorecard?from=%s&to=%s" % (month_from, month_to), manager, runs)
	bench("scorecard, same month, CSV", "/v1/reports/scorecard?from=%s&to=%s&format=csv" % (month_from, month_to),
	      manager, runs)
	bench("scorecard, 365 days", "/v1/reports/scorecard?from=%s&to=%s" % (year_from, today), manager,
	      max(5, runs // 2))
	for by in ("department", "category", "district"):
	    bench("bad reviews, month, by %s" % by,
	          "/v1/reports/bad-reviews?from=%s&to=%s&by=%s" % (month_from, month_to, by), manager, runs)
	bench("bad reviews, 365 days, by category",
	      "/v1/reports/bad-reviews?from=%s&to=%s&by=category" % (year_from, today), manager, max(5, runs // 2))

	operator = post("/v1/users", admin, {"name": "bench-seat", "role": "operator"})["token"]
	body = bench("caller history, a phone with cases", "/v1/callers/" + phone, operator, aid_calls)
	assert json.loads(body)["count_90d"] >= 1, body
	bench("caller history, an unknown phone", "/v1/callers/13000000000", operator, aid_calls)
	fresh = {"text": "小区门口有人占道摆摊，晚上烧烤油烟很大，影响居民休息", "district": district}
	bench("similar, a fresh report, %s" % district, "/v1/cases/similar", operator, aid_calls, fresh)
	# the newest open case there, told again with two characters more: it must come back first
	retold = {"text": like_text.replace("问题", "问题啊", 1) + "谢谢", "district": district}
	body = bench("similar, a generated case retold, %s" % district, "/v1/cases/similar", operator,
	             max(20, aid_calls // 4), retold)
	found = json.loads(body)["items"]
	assert found and found[0]["similarity"] > 0.5, body[:300]
	bench("similar, a fresh report, no district", "/v1/cases/similar", operator, aid_calls,
	      {"text": fresh["text"]})
	for q in ("停电", "社保卡丢了", "孩子上小学报名", "公积金 提取"):
	    body = bench("kb search q=%s" % q, "/v1/kb?q=" + urllib.parse.quote(q), operator, aid_calls)
	    assert json.loads(body)["items"], q

	lines = ["%d cases (generated in %s s); the month has %d cases, the 365 days %d; %d open cases overdue"
	         % (int(n), gen_s, month_cases, year_cases, overdue),
	         "| request | calls | first ms | median ms | p99 ms | max ms | bytes |",
	         "|---|---:|---:|---:|---:|---:|---:|"]
	for name, count, first, med, p99, mx, size in rows:
	    lines.append("| %s | %d | %.1f | %.1f | %.1f | %.1f | %d |" % (name, count, first, med, p99, mx, size))
	text = "\n".join(lines) + "\n"
	sys.stdout.write(text)
	open(out, "w").write(text)
	EOF
