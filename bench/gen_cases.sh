#!/usr/bin/env bash
# bench/gen_cases.sh: fill a hotline database migrated to version 7 with N generated cases,
# their full histories and report facts (bench/gen_cases.sql says what the cases look like).
#
#   bench/gen_cases.sh CONNINFO N [YEARS]
#
# CONNINFO: a libpq connection string of a superuser (the load turns foreign-key triggers off
# for its sessions). The cases are created evenly over the YEARS (default 5) before now and
# numbered 1..N; the database must hold no case yet. Chunks of HL_GEN_CHUNK cases (default
# 250000) load in HL_GEN_JOBS parallel sessions (default 2). Secondary indexes of cases and
# case_events are dropped for the load and built again after it; case_facts is written with
# the cases and checked at the end (case_facts_drift() must be 0); then vacuum and analyze.
set -euo pipefail
export PGTZ=${HOTLINE_TIMEZONE:-Asia/Shanghai} # local days for the deadlines, as the server's

here=$(cd "$(dirname "$0")" && pwd)
psql_bin=${HL_PG_BIN:-/usr/lib/postgresql/15/bin}/psql
conninfo=${1:?usage: gen_cases.sh CONNINFO N [YEARS]}
total=${2:?usage: gen_cases.sh CONNINFO N [YEARS]}
years=${3:-5}
chunk=${HL_GEN_CHUNK:-250000}
jobs=${HL_GEN_JOBS:-2}

sql() { "$psql_bin" -X -q -A -t -v ON_ERROR_STOP=1 -d "$conninfo" -c "$1"; }
say() { printf '%s gen_cases: %s\n' "$(date +%T)" "$*" >&2; }

[[ $total =~ ^[1-9][0-9]*$ && $years =~ ^[1-9][0-9]*$ ]] || { echo "N and YEARS must be positive integers" >&2; exit 2; }
# The rows are history written before the migrations after 007, which derive their own data
# from the history when they are applied (as on an upgrade): load first, migrate the rest after.
if [[ $(sql "SELECT max(version) FROM schema_migrations") != 7 ]]; then
	echo "gen_cases: migrate the database to version 7 exactly (001-007), load, then migrate the rest" >&2
	exit 1
fi
if [[ -n $(sql "SELECT 1 FROM cases LIMIT 1") ]]; then
	echo "gen_cases: the database already has cases" >&2
	exit 1
fi
start=$SECONDS
now=$(sql "SELECT now()")

say "users: 20 operators, a manager, one clerk per department"
sql "INSERT INTO users (name, role) SELECT 'bench-operator-' || n, 'operator' FROM generate_series(1, 20) n;
     INSERT INTO users (name, role) VALUES ('bench-manager', 'manager');
     INSERT INTO users (name, role, department) SELECT 'bench-dept-' || code, 'department', code FROM departments;"

say "dropping the secondary indexes and pausing autovacuum for the load"
for t in cases case_events case_facts; do
	sql "ALTER TABLE $t SET (autovacuum_enabled = false)"
done
indexes=$(sql "SELECT string_agg(pg_get_indexdef(i.indexrelid), ';' || chr(10))
                 FROM pg_index i
                WHERE i.indrelid IN ('cases'::regclass, 'case_events'::regclass, 'case_facts'::regclass)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")
while IFS= read -r def; do
	[[ -z $def ]] && continue
	name=$(sed -E 's/^CREATE (UNIQUE )?INDEX ([^ ]+) ON .*/\2/' <<<"$def")
	sql "DROP INDEX $name"
done <<<"$indexes"

say "generating $total cases over $years years up to $now, chunks of $chunk, $jobs at a time"
seq 1 "$chunk" "$total" | xargs -P "$jobs" -I{} bash -c '
	first=$1 last=$(( $1 + $2 - 1 )); (( last > $3 )) && last=$3
	"$4" -X -q -v ON_ERROR_STOP=1 -d "$5" -v first="$first" -v last="$last" -v total="$3" \
		-v span_days="$6" -v now="$7" -f "$8" >/dev/null || exit 255
	printf "%s gen_cases: cases %s-%s loaded\n" "$(date +%T)" "$first" "$last" >&2
' _ {} "$chunk" "$total" "$psql_bin" "$conninfo" "$((years * 365))" "$now" "$here/gen_cases.sql"
sql "SELECT setval(pg_get_serial_sequence('cases', 'id'), $total)" >/dev/null
say "loaded in $((SECONDS - start)) s; building indexes"

# The trigram index of the case text takes most of the time: it is built on its own while the
# other indexes are built, the facts checked, and what can be vacuumed is, on the other core.
gin=$(grep -i ' USING gin ' <<<"$indexes" || true)
others=$(grep -vi ' USING gin ' <<<"$indexes" | awk NF || true)
build() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$conninfo" -c "SET maintenance_work_mem = '1GB'" -c "$1"; }
(
	while IFS= read -r def; do
		if [[ -n $def ]]; then build "$def"; fi
	done <<<"$gin"
) &
gin_job=$!
while IFS= read -r def; do
	if [[ -n $def ]]; then build "$def"; fi
done <<<"$others"
say "other indexes built at $((SECONDS - start)) s; checking case_facts"
drift=$(sql "SELECT case_facts_drift()")
[[ $drift == 0 ]] || { echo "gen_cases: case_facts_drift() = $drift" >&2; exit 1; }
# Everything is vacuumed now, the history too: left to autovacuum, its first pass over tens of
# millions of history rows ran for minutes while reports.sh was timing, and the timings with it.
sql "VACUUM (ANALYZE) case_facts"
sql "VACUUM (ANALYZE) case_events"
wait "$gin_job"
say "all indexes built at $((SECONDS - start)) s; vacuum analyze cases"
sql "VACUUM (ANALYZE) cases"
for t in cases case_events case_facts; do
	sql "ALTER TABLE $t RESET (autovacuum_enabled)"
done
say "done: $total cases, $(sql "SELECT count(*) FROM case_events") events in $((SECONDS - start)) s"
