#!/bin/bash
# The three-way table of README.md: each hold-out batch scored by the rules alone, the model
# alone and both combined, the model trained on every other labelled file (leave one batch out),
# the rules those of the batch's time (before any tuning on it: read from git history), so that
# neither side ever saw the batch it is scored on. Batches 8-9 were written after every rule
# change: the current rules score them.
#   bench/routing/three_way.sh [route_offline options, e.g. --bonus 5,2,1.5,1,0.5]
# BATCHES="8 9" limits the batches. Needs build/bench/route_offline and the git history.
set -euo pipefail
cd "$(dirname "$0")"
R=${ROUTE_OFFLINE:-../../build/bench/route_offline}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A AT=([1]=11d4941 [2]=11d4941 [3]=65f6e1f [4]=0faf0ea [5]=d3ea1d6 [6]=c5c6db2 [7]=48da0c5)
train=()
for f in routing-dev.jsonl extra-cases.jsonl holdout-*.jsonl; do train+=(--train "$f"); done
T=0 RR=0 MR=0 CR=0
for b in ${BATCHES:-1 2 3 4 5 6 7 8 9}; do
	rules=../../sql/003_rules.sql
	if [ -n "${AT[$b]:-}" ]; then
		rules=$tmp/rules-$b.sql
		git show "${AT[$b]}:sql/003_rules.sql" >"$rules"
	fi
	read -r t r m c < <("$R" "$rules" "holdout-$b.jsonl" "${train[@]}" --json "$@" | python3 -c \
		'import json,sys; d=json.load(sys.stdin); print(d["total"], d["right"], d["model_right"], d["combined_right"])')
	awk -v b="$b" -v t="$t" -v r="$r" -v m="$m" -v c="$c" 'BEGIN {
		printf "holdout-%s %4d  rules %5.1f%%  model %5.1f%%  combined %5.1f%%\n", b, t, 100*r/t, 100*m/t, 100*c/t }'
	T=$((T + t)) RR=$((RR + r)) MR=$((MR + m)) CR=$((CR + c))
done
awk -v t="$T" -v r="$RR" -v m="$MR" -v c="$CR" 'BEGIN {
	printf "all       %4d  rules %5.1f%%  model %5.1f%%  combined %5.1f%%\n", t, 100*r/t, 100*m/t, 100*c/t }'
