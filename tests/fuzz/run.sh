#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a while.
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]
#
# fuzzes each target (default: every tests/fuzz/fuzz_<name>.c) SECONDS (default 60; 0 = replay
# the corpus only), one after the other. For long runs start one run.sh per target, each with
# its own FUZZ_BUILD, under `nice -n 19`.
#
# Targets: tests/fuzz/fuzz_<name>.c, linked with every server/core/*.c, json-c and libxml2;
# fuzz_http with the whole server but main.c, libevent, libpq and libxcrypt too (it needs no
# network). The seed
# corpus tests/fuzz/corpus/<name>/ is read, never written: new inputs go to
# $FUZZ_BUILD/corpus/<name>/ (default build-fuzz/ in the checkout), crashes to
# $FUZZ_BUILD/crashes/<name>/. A crash fails the run; keep its input as a regression seed by
# copying it into tests/fuzz/corpus/<name>/ once fixed (every run replays the seeds first).
# FUZZ_TIMEOUT (default 10) is the seconds one input may take before it counts as a hang: raise
# it for long runs on a shared machine, where a starved process can stall that long.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
FUZZ=$ROOT/tests/fuzz
OUT=${FUZZ_BUILD:-$ROOT/build-fuzz}
SECONDS_EACH=${1:-60}
CC=${FUZZ_CC:-clang}

[[ $SECONDS_EACH =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS [TARGET...]]" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
command -v "$CC" >/dev/null || { echo "error: $CC not found (Debian: clang, libclang-rt-14-dev)" >&2; exit 1; }

mkdir -p "$OUT"
read -r -a JSONC_CFLAGS <<<"$(pkg-config --cflags json-c libxml-2.0)"
read -r -a JSONC_LIBS <<<"$(pkg-config --libs json-c libxml-2.0)"
FLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-I"$ROOT/server" -I"$FUZZ" "${JSONC_CFLAGS[@]}")

build() {
	local name=$1 shell=() libs=()
	if [[ $name == http ]]; then
		for f in "$ROOT"/server/*.c "$ROOT"/server/{http,db,api}/*.c; do
			[[ $f == "$ROOT/server/main.c" ]] || shell+=("$f")
		done
		# the intake's statement, built in from its .sql as server/CMakeLists.txt does
		cmake -DIN="$ROOT/server/api/intake_batch.sql" -DOUT="$OUT/intake_batch_sql.c" -DNAME=intake_batch_sql \
			-DHEADER=api/intake_batch_sql.h -P "$ROOT/server/embed_sql.cmake"
		shell+=("$OUT/intake_batch_sql.c")
		read -r -a libs <<<"$(pkg-config --cflags --libs libevent libevent_pthreads libpq libxcrypt)"
		libs+=("-DHOTLINE_SQL_DIR=\"$ROOT/sql\"" "-DHOTLINE_WEB_DIR=\"$ROOT/web\"" -pthread)
	fi
	"$CC" "${FLAGS[@]}" -o "$OUT/fuzz_$name" "$FUZZ/fuzz_$name.c" "$FUZZ/fuzz_check.c" \
		"$ROOT"/server/core/*.c ${shell[@]+"${shell[@]}"} ${libs[@]+"${libs[@]}"} "${JSONC_LIBS[@]}" -lm
}

# run NAME: replays the seeds, then fuzzes for SECONDS_EACH; the exit status is libFuzzer's.
run() {
	local name=$1 seeds=$FUZZ/corpus/$1 work=$OUT/corpus/$1 crashes=$OUT/crashes/$1/
	mkdir -p "$work" "$crashes"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	local dict=$FUZZ/json.dict
	[[ -f $FUZZ/$name.dict ]] && dict=$FUZZ/$name.dict
	local common=(-dict="$dict" -max_len=16384 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048
		-artifact_prefix="$crashes" -print_final_stats=1)
	if ((SECONDS_EACH == 0)); then
		"$OUT/fuzz_$name" "${common[@]}" -runs=0 "$seeds"
	else
		"$OUT/fuzz_$name" "${common[@]}" -max_total_time="$SECONDS_EACH" "$work" "$seeds"
	fi
}

targets=("$@")
if ((${#targets[@]} == 0)); then
	for src in "$FUZZ"/fuzz_*.c; do
		name=$(basename "$src" .c)
		name=${name#fuzz_}
		[[ $name == check ]] || targets+=("$name")
	done
fi
for t in "${targets[@]}"; do
	[[ -f $FUZZ/fuzz_$t.c && $t != check ]] || { echo "error: no target tests/fuzz/fuzz_$t.c" >&2; exit 2; }
done

failed=()
for t in "${targets[@]}"; do
	echo "=== fuzz_$t: build"
	build "$t"
	echo "=== fuzz_$t: ${SECONDS_EACH}s"
	if run "$t" >"$OUT/fuzz_$t.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|INITED|DONE' "$OUT/fuzz_$t.log" | tail -n 4
		echo "=== fuzz_$t: ok ($(ls "$OUT/corpus/$t" | wc -l) inputs in $OUT/corpus/$t)"
	else
		tail -n 60 "$OUT/fuzz_$t.log"
		echo "=== fuzz_$t: FAILED (log $OUT/fuzz_$t.log, input in $OUT/crashes/$t/)"
		failed+=("$t")
	fi
done
((${#failed[@]} == 0)) || { echo "fuzz: FAILED: ${failed[*]}" >&2; exit 1; }
echo "fuzz: ${#targets[@]} targets passed"
