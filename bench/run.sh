#!/bin/sh
# bench/run.sh - `make bench`: crmscope beside DuckDB on the shared order logs.
#
# For 1M and 10M rows (../shared/bench/gen_orders.py), in one run on this
# machine, the median of RUNS whole-process runs (wall time, peak RSS) of:
#   (a) import the CSV into SQLite            crmscope import
#   (b) load that database into the dataset   crmscope overview DB
#   (c) CSV straight into the dataset         crmscope overview FILE
#   (d) CSV -> per-customer summary CSV       crmscope customers FILE --out
#   DuckDB's one statement (d), run in turns with ours (the ratio is the
#   median of the pairs' ratios), and its pipeline (load, summary, monthly,
#   cohort, write), from ../shared/bench.
# Results: bench/work/results.md (copy the figures into bench/RESULTS.md).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
W=$ROOT/bench/work
BIN=$ROOT/build/crmscope
RUNS=${RUNS:-3}
SIZES=${SIZES:-"1m 10m"}
mkdir -p "$W"

[ -d "$W/node_modules/@duckdb/node-api" ] || (cd "$W" && npm install --silent @duckdb/node-api >/dev/null)
for s in $SIZES; do
	rows=$(echo "$s" | sed 's/m$/000000/')
	[ -f "$W/orders_$s.csv" ] || /usr/bin/python3 "$SHARED/bench/gen_orders.py" --rows "$rows" --out "$W/orders_$s.csv"
done

# one run of a command: prints "ms peak_kb" (the time from date, to the
# millisecond, not /usr/bin/time's hundredths); stops the benchmark with
# the command's errors when it fails
run_once() {
	t0=$(date +%s%N)
	/usr/bin/time -f "%M" -o "$W/t.txt" sh -c "$1" > /dev/null 2> "$W/err.txt" ||
		{ cat "$W/err.txt" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $(cat "$W/t.txt")"
}

# median of RUNS runs of a command: prints "seconds peak_kb"
measure() {
	i=0
	: > "$W/m.txt"
	while [ $i -lt "$RUNS" ]; do
		[ -n "${BEFORE:-}" ] && sh -c "$BEFORE"
		run_once "$1" >> "$W/m.txt" || exit 1
		i=$((i + 1))
	done
	sort -n "$W/m.txt" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { printf "%.3f %d\n", $1 / 1000, $2 }'
}

# RUNS runs of command $1 and of command $2 taken in turns, so that a
# machine that speeds up or slows down over the minutes of a run does not
# favour either: prints "s1 kb1 s2 kb2 ratio", the medians of each and of
# the runs' ratios s2 / s1
measure_pair() {
	i=0
	: > "$W/p.txt"
	while [ $i -lt "$RUNS" ]; do
		a=$(run_once "$1") || exit 1
		b=$(run_once "$2") || exit 1
		echo "$a $b" >> "$W/p.txt"
		i=$((i + 1))
	done
	awk -v n="$RUNS" '
		function median(a,   k, j, t) {
			for (k = 2; k <= n; k++) for (j = k; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{ s1[NR] = $1 / 1000; k1[NR] = $2; s2[NR] = $3 / 1000; k2[NR] = $4; r[NR] = $3 / $1 }
		END { printf "%.3f %d %.3f %d %.2f\n", median(s1), median(k1), median(s2), median(k2), median(r) }' "$W/p.txt"
}

duck() { # $1 sql file, $2 csv
	echo "DUCKDB_NODE_DIR=$W node $SHARED/bench/duckdb_sql.cjs --threads 2 --set CSV=$2 --set END=2024-12-31 --set OUT=$W/duck -f $SHARED/bench/$1"
}

out=$W/results.md
{
echo "| step | rows | crmscope s | peak MB | MB/s | rows/s | DuckDB s | DuckDB MB | DuckDB / crmscope |"
echo "|---|---|---|---|---|---|---|---|---|"
} > "$out"
row() { # step rows bytes "ours_s ours_kb" "duck_s duck_kb [ratio]"
	echo "$2 $3 $4 $5" | awk -v label="$1" '{
		t = $3; m = $4 / 1024; mbs = $2 / 1e6 / t; rps = $1 / t;
		if ($5 != "") { dt = $5; dm = sprintf("%.0f", $6 / 1024); r = sprintf("%.2f", $7 != "" ? $7 : dt / t) } else { dt = "-"; dm = "-"; r = "-" }
		printf "| %s | %d | %.2f | %.0f | %.0f | %.0f | %s | %s | %s |\n", label, $1, t, m, mbs, rps, dt, dm, r
	}' >> "$out"
}

for s in $SIZES; do
	f=$W/orders_$s.csv
	rows=$(($(wc -l < "$f") - 1))
	bytes=$(wc -c < "$f")
	db=$W/orders_$s.db
	echo "== $s: $rows rows, $bytes bytes"
	BEFORE="rm -f $db $db-wal $db-shm"
	a=$(measure "$BIN import $db orders $f")
	BEFORE=""
	echo "(a) import: $a"
	b=$(measure "$BIN overview $db")
	echo "(b) load db: $b"
	c=$(measure "$BIN overview $f")
	echo "(c) csv -> dataset: $c"
	dd=$(measure_pair "$BIN customers $f --as-of 2024-12-31 --out $W/ours_$s.csv" \
		"$(duck crm_duckdb_oneshot.sql "$f")")
	d=$(echo "$dd" | cut -d' ' -f1,2)
	d1=$(echo "$dd" | cut -d' ' -f3-5)
	echo "(d) csv -> summary: $d"
	echo "    duckdb one statement (runs in turns with (d)): $(echo "$dd" | cut -d' ' -f3,4); ratio of each pair, median: $(echo "$dd" | cut -d' ' -f5)"
	p=$(measure "$(duck crm_duckdb.sql "$f")")
	echo "    duckdb pipeline: $p"
	row "(a) import into SQLite" "$rows" "$bytes" "$a" ""
	row "(b) load SQLite into the dataset" "$rows" "$bytes" "$b" ""
	row "(c) CSV into the dataset" "$rows" "$bytes" "$c" ""
	row "(d) CSV to summary CSV" "$rows" "$bytes" "$d" "$d1"
	row "DuckDB pipeline (load, summary, monthly, cohort, write)" "$rows" "$bytes" "$p" ""
	# the same per-customer numbers as DuckDB (monetary to the cent)
	python3 - "$W/ours_$s.csv" "$W/duck_oneshot_summary.csv" <<'PY'
import csv, sys
ours = {r["customer_id"]: r for r in csv.DictReader(open(sys.argv[1]))}
bad = 0
n = 0
for r in csv.DictReader(open(sys.argv[2])):
    n += 1
    o = ours.get(r["customer_id"])
    if (o is None or int(o["x"]) != int(r["frequency"]) or int(o["t_x"]) != int(r["recency"])
            or int(o["T"]) != int(r["T"]) or abs(float(o["mean_repeat"]) - float(r["monetary_value"])) > 0.005001):
        bad += 1
print(f"    check: {n} customers in DuckDB, {len(ours)} in crmscope, {bad} differ")
sys.exit(1 if bad or n != len(ours) else 0)
PY
done
echo
cat "$out"
