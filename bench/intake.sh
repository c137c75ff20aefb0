#!/usr/bin/env bash
# bench/intake.sh: how fast the server takes in cases, next to PostgreSQL doing the same work.
#
#   bench/intake.sh [SECONDS]     each measured run lasts SECONDS (default 20)
#
# Starts its own durable PostgreSQL cluster (fsync on, as in production) and server under
# $HL_BENCH_DIR (default var/bench-intake), through deploy/lib.sh like deploy/local.sh, builds
# the server and bench/loadgen there (RelWithDebInfo), and in one run measures:
#   - pgbench baselines at 16 clients, first and last: a bare single-row INSERT of a case, and
#     the server's own transaction for one intake (bench/intake_tx.sql);
#   - POST /v1/cases with wrk (bench/intake.lua: Chinese cases, unique Idempotency-Keys) at 16
#     and 64 connections; GET /v1/cases/{id} and GET /v1/inbox at 64 connections;
#   - fixed rates for 30 s, open loop: 1,000 cases/s (the target) and $HL_BENCH_LOW_RATE
#     (default 300), each through the server (bench/loadgen.c) and as the same transaction
#     straight into PostgreSQL (pgbench --rate): what the database alone can do at that rate;
# each with the server's RSS and CPU and the machine's CPU. Prints one table with the ratios
# and the targets, and writes it with the machine and the exact commands to bench/RESULTS.md
# (overwritten, except the "## Fuzzing" section and the cluster's, which are kept). Extra server
# settings: HL_BENCH_SERVER_ARGS (e.g. "--pool_size=8").
# HL_BENCH_STREAMS=N keeps N event streams (GET /v1/stream) open and read for the whole run,
# as N department clerks would (bench/streams.py), and reports what they received.
# Everything it started is stopped at the end; the cluster is made anew on every run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$ROOT/deploy/lib.sh"

SECS=${1:-20}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/intake.sh [SECONDS]" >&2; exit 2; }
DIR=${HL_BENCH_DIR:-$ROOT/var/bench-intake}
BIN=$DIR/build/server/hotline-server
LOADGEN=$DIR/build/bench/loadgen
PIDFILE=$DIR/server.pid
RESULTS=$ROOT/bench/RESULTS.md
DB=intake
RUN=$(hl_random_hex 4)
read -r -a SERVER_ARGS <<<"${HL_BENCH_SERVER_ARGS:-}"
LOW_RATE=${HL_BENCH_LOW_RATE:-300}
FIXED_SECS=30
CLK_TCK=$(getconf CLK_TCK)
ROWS=()      # table rows: name|conns|rate|p50|p99|rss|cpu|machine|failed|cases per transaction
COMMANDS=()  # what ran, secrets replaced by their names

for tool in wrk pgbench; do
	command -v "$tool" >/dev/null || hl_die "$tool is missing (Debian: wrk, postgresql-client-15)"
done

STREAMS=${HL_BENCH_STREAMS:-0}
STREAMS_PID=""
cleanup() {
	[[ -n $STREAMS_PID ]] && kill "$STREAMS_PID" 2>/dev/null || true
	hl_server_stop "$PIDFILE" || true
	hl_pg_stop "$DIR/pg" fast || true
}
trap cleanup EXIT

# --- setup ------------------------------------------------------------------------------------

mkdir -p "$DIR/log"
chmod 755 "$DIR"
hl_pg_allow_traverse "$DIR"
hl_say "building the server and loadgen in $DIR/build"
{ cmake -S "$ROOT" -B "$DIR/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	cmake --build "$DIR/build" -j2 --target hotline-server loadgen; } >"$DIR/log/build.log" 2>&1 ||
	{ tail -n 40 "$DIR/log/build.log" >&2; hl_die "build failed"; }

hl_pg_stop "$DIR/pg" immediate || true
rm -rf "$DIR/pg"
hl_pg_create "$DIR/pg"
cat >>"$DIR/pg/postgresql.conf" <<-'EOF'
# bench/intake.sh: durable (fsync and synchronous_commit on), sized for a small machine.
# Checkpoints: at 1,000 intakes a second the default max_wal_size (1GB) started one every
# ~100 s, and the full-page images written after each start made WAL flushes slow enough to
# queue every request behind them (p99 in the hundreds of ms); the settings a production
# cluster with this write rate would have: fewer checkpoints, compressed page images.
shared_buffers = '512MB'
max_connections = 200
max_wal_size = '8GB'
checkpoint_timeout = '15min'
wal_compression = lz4
EOF
PG_PORT=$(hl_free_port)
PG_SOCK=$(hl_pg_sockdir "$DIR/run" "$PG_PORT")
hl_pg_configure "$DIR/pg" "$PG_PORT" "$PG_SOCK"
hl_pg_start "$DIR/pg" "$DIR/log/postgresql.log"
PASSWORD=$(hl_random_hex 16)
hl_pg_app_role "$PG_SOCK" "$PG_PORT" hotline "$PASSWORD"
hl_pg_app_db "$PG_SOCK" "$PG_PORT" "$DB" hotline
export HOTLINE_DB="host=127.0.0.1 port=$PG_PORT dbname=$DB user=hotline password=$PASSWORD"
"$BIN" migrate >"$DIR/log/migrate.log" 2>&1
ADMIN=$("$BIN" create-admin "bench-admin")
PORT=$(hl_free_port)
: >"$DIR/log/server.log"
hl_server_start "$BIN" "$PORT" "$DIR/log/server.log" "$PIDFILE" --log_level=warn "${SERVER_ARGS[@]}"
SERVER_PID=$(<"$PIDFILE")
URL=http://127.0.0.1:$PORT

sql() { hl_psql "$PG_SOCK" "$PG_PORT" "$DB" "$1"; }

# new_user ROLE [DEPARTMENT]: prints the token of a new user made through the API.
new_user() {
	"$HL_PYTHON" - "$URL" "$ADMIN" "$@" <<-'EOF'
	import json, sys, urllib.request
	url, admin, role = sys.argv[1:4]
	body = {"name": "bench-%s" % role, "role": role}
	if len(sys.argv) > 4:
	    body["department"] = sys.argv[4]
	req = urllib.request.Request(url + "/v1/users", json.dumps(body).encode(), method="POST",
	                             headers={"Authorization": "Bearer " + admin,
	                                      "Content-Type": "application/json"})
	print(json.load(urllib.request.urlopen(req))["token"])
	EOF
}
OPERATOR=$(new_user operator)
OP_ID=$(sql "SELECT id FROM users WHERE name = 'bench-operator'")
OP_HASH=$(sql "SELECT '\\x' || encode(t.hash, 'hex') FROM tokens t WHERE t.user_id = $OP_ID")

if ((STREAMS > 0)); then
	hl_say "opening $STREAMS event streams"
	"$HL_PYTHON" "$ROOT/bench/streams.py" "$URL" "$ADMIN" "$STREAMS" "$DIR/log/streams.json" &
	STREAMS_PID=$!
	for ((i = 0; i < 240; i++)); do
		[[ $(curl -s "$URL/metrics" | awk '/^hotline_streams_open /{print $2}') == "$STREAMS" ]] && break
		kill -0 "$STREAMS_PID" || hl_die "bench/streams.py failed"
		sleep 0.5
	done
	((i < 240)) || hl_die "$STREAMS streams did not open within 2 minutes"
fi

# --- measuring ---------------------------------------------------------------------------------

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; }
rss_mb() { awk '/^VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
# intake_counts: the server's intake transactions and the cases they carried, from /metrics.
intake_counts() {
	"$HL_PYTHON" - "$URL/metrics" <<-'EOF'
	import sys, urllib.request
	m = dict(l.split()[:2] for l in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines()
	         if l.startswith("hotline_intake_"))
	print(m["hotline_intake_transactions_total"], m["hotline_intake_cases_total"])
	EOF
}

# measure NAME CONNS CMD...: runs CMD (whose output has a RESULT line) and records a table row
# with the server's CPU (% of one core) and RSS, the machine's busy share (% of all cores) and
# the cases the server's intake transactions carried on average (group commit, db/batch.c).
measure() {
	local name=$1 conns=$2 t0 t1 m0 m1 i0 i1 out line rate p50 p99 bad
	shift 2
	t0=$(cpu_ticks)
	read -r -a m0 <<<"$(machine_ticks)"
	read -r -a i0 <<<"$(intake_counts)"
	out=$("$@" 2>&1) || true
	t1=$(cpu_ticks)
	read -r -a m1 <<<"$(machine_ticks)"
	read -r -a i1 <<<"$(intake_counts)"
	printf '%s\n' "$out" >>"$DIR/log/runs.log"
	line=$(grep -m1 '^RESULT' <<<"$out") || { printf '%s\n' "$out" >&2; hl_die "$name: no RESULT line"; }
	rate=$(sed -n 's/.* \(rps\|rate\)=\([0-9.]*\).*/\2/p' <<<"$line")
	p50=$(sed -n 's/.* p50=\([0-9.]*\).*/\1/p' <<<"$line")
	p99=$(sed -n 's/.* p99=\([0-9.]*\).*/\1/p' <<<"$line")
	bad=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(non2xx|errors|failed)=[0-9]+$/) { sub(/.*=/, "", $i); n += $i }}
		END {print n + 0}' <<<"$line")
	ROWS+=("$name|$conns|$rate|$p50|$p99|$(rss_mb)|$(awk -v a="$t0" -v b="$t1" -v s="$MEASURED" -v h="$CLK_TCK" \
		'BEGIN{printf "%.0f", (b - a) / h / s * 100}')|$(awk -v a="${m0[0]}" -v b="${m1[0]}" -v i="${m0[1]}" \
		-v j="${m1[1]}" 'BEGIN{printf "%.0f", (1 - (j - i) / (b - a)) * 100}')|$bad|$(awk -v a="${i0[0]}" \
		-v b="${i1[0]}" -v c="${i0[1]}" -v d="${i1[1]}" 'BEGIN{if (b > a) printf "%.2f", (d - c) / (b - a)}')")
	hl_say "$name: $line"
}

# wrk_run NAME CONNS MODE TOKEN_NAME TOKEN
wrk_run() {
	local name=$1 conns=$2 mode=$3 token_name=$4 token=$5
	COMMANDS+=("HL_MODE=$mode HL_TOKEN=<$token_name> wrk -t1 -c$conns -d${SECS}s --timeout 10s -s bench/intake.lua \$URL")
	MEASURED=$SECS
	HL_MODE=$mode HL_TOKEN=$token HL_RUN=$RUN-$mode-$conns HL_MAX_ID=${MAX_ID:-1} \
		measure "$name" "$conns" wrk -t1 "-c$conns" "-d${SECS}s" --timeout 10s \
		-s "$ROOT/bench/intake.lua" "$URL"
}

# pgbench_once LOGPREFIX SCRIPT SECONDS [PGBENCH OPTIONS]: 16 clients; prints pgbench's report and
# a RESULT line with p50/p99 from its per-transaction log (column 3: latency in microseconds,
# counted from the scheduled start under --rate, so a late start counts as it does for loadgen).
pgbench_once() {
	local log=$1 script=$2 secs=$3 tps
	shift 3
	rm -f "$log".*
	PGPASSWORD=$PASSWORD pgbench -n -M extended -c 16 -j 1 -T "$secs" "$@" -f "$script" -D uid="$OP_ID" \
		-D uname=bench-operator -D hash="$OP_HASH" -D k="$RANDOM$RANDOM" -l --log-prefix="$log" \
		-h 127.0.0.1 -p "$PG_PORT" -U hotline "$DB" >"$log-report.txt" 2>&1 || true
	cat "$log-report.txt"
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$log-report.txt")
	cat "$log".[0-9]* | "$HL_PYTHON" -c '
import sys
lat = sorted(int(f[2]) / 1000 for f in (l.split() for l in sys.stdin) if f[2].isdigit()) or [0]
failed = sys.argv[2] if sys.argv[1] != "0" else "all"
print("RESULT rps=%s p50=%.3f p99=%.3f failed=%s" % (
    sys.argv[1], lat[len(lat) // 2], lat[int(len(lat) * 0.99)], failed))' "${tps:-0}" \
		"$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log-report.txt")"
}

# pgbench_run NAME SCRIPT [RATE]: SECS at full speed, or FIXED_SECS at RATE transactions a second.
pgbench_run() {
	local name=$1 script=$2 rate=${3:-} secs=$SECS opts=()
	[[ -n $rate ]] && secs=$FIXED_SECS opts=(--rate "$rate")
	COMMANDS+=("pgbench -n -M extended -c 16 -j 1 -T $secs ${opts[*]} -f $(basename "$script") -D uid=<operator id> -D uname=bench-operator -D hash=<operator token hash> -D k=<random> -l -h 127.0.0.1 -p \$PGPORT -U hotline $DB")
	MEASURED=$secs
	measure "$name" 16 pgbench_once "$DIR/log/pgbench-$(basename "$script" .sql)${rate:+-$rate}" "$script" \
		"$secs" "${opts[@]}"
}

# fixed_run NAME RATE: the server at RATE cases a second for FIXED_SECS (open loop).
fixed_run() {
	COMMANDS+=("loadgen --port \$PORT --token <operator> --rate $2 --seconds $FIXED_SECS --connections 32")
	MEASURED=$FIXED_SECS
	measure "$1" 32 "$LOADGEN" --port "$PORT" --token "$OPERATOR" --rate "$2" --seconds "$FIXED_SECS" \
		--connections 32 --run "$RUN-fixed-$2"
}

cat >"$DIR/insert.sql" <<-'EOF'
\set n random(1, 1000000000000)
INSERT INTO cases (created_by, number, channel, type, text, district, caller_name, caller_phone, state, department, routing_method) VALUES (:uid::bigint, 'bench', 'phone', 'complaint', '市民来电反映，风光路与解放路交叉口每天早上有人占道摆摊，影响行人和车辆通行。（编号 insert-' || :n::text || '）', '驿城区', '张先生', '13800000000', 'dispatched', 'urban_mgmt', 'rule');
EOF

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN{exit !(l > 0.5)}'; then
	hl_say "warning: load average $LOAD_BEFORE before measuring: other work on this machine skews the numbers"
fi
hl_say "warming up (5 s)"
HL_MODE=create HL_TOKEN=$OPERATOR HL_RUN=$RUN-warm wrk -t1 -c16 -d5s -s "$ROOT/bench/intake.lua" "$URL" >/dev/null

pgbench_run "pgbench: bare INSERT of a case (before)" "$DIR/insert.sql"
pgbench_run "pgbench: the server's intake transaction (before)" "$ROOT/bench/intake_tx.sql"
wrk_run "POST /v1/cases" 16 create operator "$OPERATOR"
wrk_run "POST /v1/cases" 64 create operator "$OPERATOR"
MAX_ID=$(sql "SELECT max(id) FROM cases")
wrk_run "GET /v1/cases/{id}" 64 get admin "$ADMIN"
DEPT=$(sql "SELECT department FROM cases WHERE state IN ('dispatched', 'accepted', 'reopened')
	GROUP BY department ORDER BY count(*) DESC LIMIT 1")
CLERK=$(new_user department "$DEPT")
wrk_run "GET /v1/inbox ($DEPT)" 64 inbox "clerk of $DEPT" "$CLERK"
fixed_run "POST /v1/cases at 1,000/s" 1000
pgbench_run "pgbench: the intake transaction at 1,000/s" "$ROOT/bench/intake_tx.sql" 1000
fixed_run "POST /v1/cases at $LOW_RATE/s" "$LOW_RATE"
pgbench_run "pgbench: the intake transaction at $LOW_RATE/s" "$ROOT/bench/intake_tx.sql" "$LOW_RATE"
HWM=$(awk '/^VmHWM/{printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status")
# The baselines again on the grown tables: the ratios use the mean of both, since on a shared
# machine one measurement can fall into someone else's busy minute.
pgbench_run "pgbench: bare INSERT of a case (after)" "$DIR/insert.sql"
pgbench_run "pgbench: the server's intake transaction (after)" "$ROOT/bench/intake_tx.sql"
CASES=$(sql "SELECT count(*) FROM cases")
STREAM_REPORT=""
if ((STREAMS > 0)); then
	STREAM_METRICS=$(curl -s "$URL/metrics" | grep -E '^hotline_(streams|stream_events)')
	kill "$STREAMS_PID"
	wait "$STREAMS_PID" || true
	STREAMS_PID=""
	STREAM_REPORT=$(printf '## With %s event streams open

All the runs above had %s GET /v1/stream connections open and read (bench/streams.py: one
department user per department, streams spread over them round-robin). What they got:

```
%s
%s
```
' \
		"$STREAMS" "$STREAMS" "$(cat "$DIR/log/streams.json")" "$STREAM_METRICS")
fi

# --- report -------------------------------------------------------------------------------------

report() {
	"$HL_PYTHON" - "$SECS" "$HWM" "$CASES" "$LOW_RATE" "${ROWS[@]}" <<-'EOF'
	import sys
	secs, hwm, cases, low = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
	rows = [r.split("|") for r in sys.argv[5:]]
	print("| run | conns | per s | p50 ms | p99 ms | server RSS MB | server CPU % | machine busy % | failed | cases a transaction |")
	print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for name, conns, rate, p50, p99, rss, cpu, busy, bad, per_tx in rows:
	    print("| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s | %s |" % (
	        name, conns, float(rate), float(p50), float(p99), rss, cpu, busy, bad, per_tx))
	by = {(r[0], r[1]): float(r[2]) for r in rows}
	def mean(name):
	    return (by[(name + " (before)", "16")] + by[(name + " (after)", "16")]) / 2
	insert = mean("pgbench: bare INSERT of a case")
	own = mean("pgbench: the server's intake transaction")
	s16 = by[("POST /v1/cases", "16")]
	named = {r[0]: r for r in rows}
	fixed = named["POST /v1/cases at 1,000/s"]
	# issue #19: at least a bare INSERT at 16 connections
	checks = [
	    ("server cases/s / bare INSERT TPS, mean of before and after (16 conns)", s16 / insert, 1.00),
	    ("server cases/s / its own transaction in pgbench, mean (16 conns)", s16 / own, 0.80),
	]
	print()
	print("| ratio or limit | measured | target | |")
	print("|---|---:|---:|---|")
	for what, value, target in checks:
	    print("| %s | %.2f | >= %.2f | %s |" % (what, value, target, "ok" if value >= target else "SHORT"))
	p99 = float(fixed[4])
	print("| p99 at 1,000 cases/s (open loop) | %.2f ms | <= 5 ms | %s |" % (p99, "ok" if p99 <= 5 else "SHORT"))
	db99 = float(named["pgbench: the intake transaction at 1,000/s"][4])
	print("| p99 at 1,000 cases/s / pgbench's own p99 at that rate (issue #19) | %.2f | <= 0.50 | %s |" % (
	    p99 / db99, "ok" if p99 <= db99 / 2 else "SHORT"))
	for rate in ("1,000", low):
	    db = named["pgbench: the intake transaction at %s/s" % rate]
	    srv = named["POST /v1/cases at %s/s" % rate]
	    print("| at %s/s: p99 of the server / of the database alone (pgbench --rate) | %.2f / %.2f ms | | |" % (
	        rate, float(srv[4]), float(db[4])))
	print("| fixed-rate run: answered per s, failed | %.0f, %s | 1000, 0 | %s |" % (
	    float(fixed[2]), fixed[8], "ok" if float(fixed[2]) >= 990 and fixed[8] == "0" else "SHORT"))
	print("| server peak RSS (VmHWM) over the whole run | %.1f MB | <= 64 MB | %s |" % (
	    hwm, "ok" if hwm <= 64 else "SHORT"))
	print()
	print("Cases in the database at the end: %s. Each measured run: %s s (the fixed-rate runs 30 s)." % (cases, secs))
	EOF
}
TABLE=$(report)
printf '\n%s\n' "$TABLE"

# The cluster's figures (deploy/cluster.sh test) share the file: they are kept as they are.
CLUSTER_FIGURES=$(sed -n '/^# Production cluster under faults/,$p' "$RESULTS" 2>/dev/null || true)
# So is everything from the hour of fuzzing ("## Fuzzing", tests/fuzz/run.sh) up to the cluster's
# section: earlier intake analyses are written there by hand.
FUZZ_FIGURES=$(sed -n '/^## Fuzzing/,/^# Production cluster under faults/p' "$RESULTS" 2>/dev/null |
	sed '/^# Production cluster under faults/d' || true)
{
	printf '# Intake benchmark (bench/intake.sh)\n\n'
	printf 'Measured %s on %s: %s CPUs (%s), %s MB memory, %s; %s; wrk %s; libevent %s; json-c %s.\n\n' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -n)" "$(nproc)" \
		"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)" \
		"$(awk '/MemTotal/{printf "%d", $2 / 1024}' /proc/meminfo)" "$(uname -sr)" \
		"$("$HL_PG_BIN/postgres" --version)" "$(wrk --version 2>&1 | head -n1 | awk '{print $2}')" \
		"$(pkg-config --modversion libevent)" "$(pkg-config --modversion json-c)"
	printf 'Everything on one machine over loopback: PostgreSQL (durable: fsync and synchronous_commit\n'
	printf 'on, shared_buffers 512MB, max_wal_size 8GB, checkpoint_timeout 15min, wal_compression lz4), the server (RelWithDebInfo, default settings%s) and the\n' \
		"${HL_BENCH_SERVER_ARGS:+, $HL_BENCH_SERVER_ARGS}"
	printf 'load tools share the cores. The server CPU column is %% of one core; machine busy is %% of all\n'
	printf 'cores, whoever used them. Load average before measuring: %s (after: %s).\n\n' \
		"$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%s\n\n' "$TABLE"
	[[ -n $STREAM_REPORT ]] && printf '%s\n\n' "$STREAM_REPORT"
	printf '## Commands\n\n```sh\n%sbench/intake.sh %s\n' "${HL_BENCH_STREAMS:+HL_BENCH_STREAMS=$HL_BENCH_STREAMS }" "$SECS"
	printf '%s\n' "${COMMANDS[@]}"
	printf '```\n\nThe bare INSERT script (written by intake.sh):\n\n```sql\n%s\n```\n' "$(cat "$DIR/insert.sql")"
	printf '\nThe intake transaction: bench/intake_tx.sql. Raw output: %s/log/runs.log.\n' "${DIR#"$ROOT"/}"
	[[ -z $FUZZ_FIGURES ]] || printf '\n%s\n' "$FUZZ_FIGURES"
	[[ -z $CLUSTER_FIGURES ]] || printf '\n%s\n' "$CLUSTER_FIGURES"
} >"$RESULTS"
hl_say "written: $RESULTS"
