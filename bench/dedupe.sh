#!/bin/sh
# bench/dedupe.sh - `crmscope dedupe` on demo businesses of 100k and 1M
# customers (issue 3): 2% of them planted duplicates (typos, swapped or
# transliterated names, reformatted phones, missing fields; truth.json).
#
# For each size: generate the demo (seed 7, kept in bench/work/dedupe and
# reused), import its customers.csv into a fresh database, then time
# `crmscope dedupe DB --full --review FILE` (wall time and peak RSS by
# /usr/bin/time -v): the median of RUNS_100K runs at 100k (3), RUNS_1M at 1M
# (1). Precision and recall of the pairs it finds at the default threshold
# (0.9) against truth.json's planted pairs. Prints a Markdown section
# (also written to bench/work/dedupe/results.md) for bench/RESULTS.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
W=$ROOT/bench/work/dedupe
BIN=${BIN:-$ROOT/build/crmscope}
SIZES=${SIZES:-"100000 1000000"}
RUNS_100K=${RUNS_100K:-3}
RUNS_1M=${RUNS_1M:-1}
mkdir -p "$W"
[ -x "$BIN" ] || { echo "bench/dedupe.sh: build $BIN first (make)" >&2; exit 1; }

# precision and recall of review file $1 (threshold 0.9) against truth $2:
# prints "predicted true_pairs found precision recall"
score() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import csv, json, sys
truth = {frozenset((d["original"], d["duplicate"]))
         for d in json.load(open(sys.argv[2]))["duplicates"]}
pred = {frozenset((r["customer_id_a"], r["customer_id_b"]))
        for r in csv.DictReader(open(sys.argv[1])) if float(r["probability"]) >= 0.9}
tp = len(truth & pred)
print(len(pred), len(truth), tp, "%.4f" % (tp / max(1, len(pred))), "%.4f" % (tp / max(1, len(truth))))
EOF
}

out=$W/results.md
rows=$W/rows.md
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$rows"

for n in $SIZES; do
	d=$W/demo_$n
	db=$W/customers_$n.db
	[ -f "$d/truth.json" ] || "$BIN" demo --customers "$n" --seed 7 --out "$d" > /dev/null
	rm -f "$db" "$db-wal" "$db-shm"
	"$BIN" import "$db" customers "$d/customers.csv" > "$W/import_$n.txt"
	runs=$RUNS_1M
	[ "$n" -le 100000 ] && runs=$RUNS_100K
	: > "$W/times_$n.txt"
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -v -o "$W/time_$n.txt" "$BIN" dedupe "$db" --full \
			--review "$W/review_$n.csv" > "$W/dedupe_$n.txt"
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
			for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s }' "$W/time_$n.txt")
		user=$(awk -F': ' '/User time/ { print $2 }' "$W/time_$n.txt")
		rss=$(awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$W/time_$n.txt")
		echo "$wall $user $rss" >> "$W/times_$n.txt"
		i=$((i + 1))
	done
	set -- $(sort -n "$W/times_$n.txt" | awk -v n="$runs" 'NR == int((n + 1) / 2)')
	wall=$1 user=$2 rss=$3
	blocks=$(awk '/^  blocks/ { print $2 }' "$W/dedupe_$n.txt")
	capped=$(sed -n 's/.*of two or more; \([0-9,]*\) above the cap.*/\1/p' "$W/dedupe_$n.txt")
	pairs=$(awk '/^  pairs compared/ { print $3 }' "$W/dedupe_$n.txt")
	set -- $(score "$W/review_$n.csv" "$d/truth.json")
	phases=$(sed -n 's/^  time .*(\(.*\))$/\1/p' "$W/dedupe_$n.txt")
	echo "| $n | $runs | $wall | $user | $rss | $blocks ($capped) | $pairs | $2 | $3 | $4 | $5 | $phases |" >> "$rows"
done
{
	echo "## Dedupe (issue 3)"
	echo
	echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')),"
	echo "$(free -g | awk '/^Mem:/ { print $2 }') GB RAM, shared with other jobs (load average"
	echo "$load_start before, $(cut -d' ' -f1-3 /proc/loadavg) after). \`bench/dedupe.sh\`: demo"
	echo "businesses (\`crmscope demo --customers N --seed 7\`, 2% planted duplicates), their"
	echo "customers.csv imported, then \`crmscope dedupe DB --full --review FILE\` timed"
	echo "whole-process (wall, user CPU, peak RSS: /usr/bin/time -v); the phases as the"
	echo "command reports them (last run); precision and recall of the pairs at the default"
	echo "threshold 0.9 against truth.json."
	echo
	echo "| customers | runs | wall s (median) | user s | peak MB | blocks (capped) | pairs compared | planted pairs | found | precision | recall | phases, s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$rows"
} > "$out"
cat "$out"
