#!/bin/sh
# bench/report.sh - `crmscope report` (issue 4) beside DuckDB, in one run.
#
# On the anchor order logs of ../shared/bench (1M and 10M rows; generated
# and DuckDB installed as bench/run.sh does, reused when present):
#   (r1) the full report, every family, straight from the CSV   report FILE --format json
#   (r2) the same from the SQLite database                      report DB --format json
#   (r3) our equivalent of DuckDB's pipeline (load, per-customer summary,
#        monthly series, cohort matrix, write):
#        report FILE --only purchases,retention --format csv --with-summary
#   DuckDB's pipeline ../shared/bench/crm_duckdb.sql on the same file.
# On the demo business scaled to about 1M orders (crmscope demo --customers
# DEMO_CUSTOMERS, every entity alike) imported into SQLite:
#   (d1) the full report from the database, (d2) from the CSV files.
# Whole-process wall time and peak resident memory (GNU time), the median of
# RUNS runs; per family, the time and peak resident memory while it ran from
# `report --timings`, in one more run (--timings resets the kernel's peak
# counter before each family, so GNU time's peak of that run is not the
# process's: the whole-process figures come from runs without it).
# A check compares the pipeline's numbers with DuckDB's (customers, months,
# revenue, cohort cells). Results: bench/work/report_results.md (copy into
# bench/RESULTS.md, section "Report (issue 4)").
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
W=$ROOT/bench/work
BIN=${BIN:-$ROOT/build/crmscope}
RUNS=${RUNS:-3}
SIZES=${SIZES:-"1m 10m"}
DEMO=${DEMO:-1}                        # 0: skip the demo business
DEMO_CUSTOMERS=${DEMO_CUSTOMERS:-353000}  # about 2.83 orders a customer: ~1M orders
AS_OF=2024-12-31
mkdir -p "$W"

[ -x "$BIN" ] || { echo "build first: make (or BIN=path)" >&2; exit 1; }
[ -d "$W/node_modules/@duckdb/node-api" ] || (cd "$W" && npm install --silent @duckdb/node-api >/dev/null)
for s in $SIZES; do
	rows=$(echo "$s" | sed 's/m$/000000/')
	[ -f "$W/orders_$s.csv" ] || /usr/bin/python3 "$SHARED/bench/gen_orders.py" --rows "$rows" --out "$W/orders_$s.csv"
done

# median of RUNS runs of a command: prints "seconds peak_kb"
measure() {
	i=0
	: > "$W/m.txt"
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f "%e %M" -o "$W/t.txt" sh -c "$1" > /dev/null 2> "$W/err.txt" ||
			{ cat "$W/err.txt" >&2; exit 1; }
		cat "$W/t.txt" >> "$W/m.txt"
		i=$((i + 1))
	done
	sort -n "$W/m.txt" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $1, $2 }'
}

# the per-family lines of one --timings run: "family seconds peak_mb" lines
families() {
	sh -c "$1 --timings" 2>&1 >/dev/null | awk '/^  / && NF >= 2 { print $1, $2, ($3 == "" ? "-" : $3), ($4 == "" ? "-" : $4) }'
}

out=$W/report_results.md
fam=$W/report_families.md
echo "| step | rows | crmscope s | peak MB | DuckDB pipeline s | DuckDB MB | DuckDB / crmscope |" > "$out"
echo "|---|---|---|---|---|---|---|" >> "$out"
: > "$fam"
row() { # label rows "s kb" ["duck_s duck_kb"]
	echo "$2 $3 ${4:-}" | awk -v label="$1" '{
		m = $3 / 1024
		if ($4 != "") { r = sprintf("**%.1fx**", $4 / $2); ds = $4; dm = sprintf("%.0f", $5 / 1024) } else { r = "-"; ds = "-"; dm = "-" }
		printf "| %s | %s | %.2f | %.0f | %s | %s | %s |\n", label, $1, $2, m, ds, dm, r
	}' >> "$out"
}
famtable() { # title, then "family s mb" lines on stdin
	{
		echo ""
		echo "$1"
		echo ""
		echo "| part | s | process peak MB while it ran | MB above its start |"
		echo "|---|---|---|---|"
		awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	} >> "$fam"
}

duck() { # $1 sql file, $2 csv
	echo "DUCKDB_NODE_DIR=$W node $SHARED/bench/duckdb_sql.cjs --threads 2 --set CSV=$2 --set END=$AS_OF --set OUT=$W/duck -f $SHARED/bench/$1"
}

for s in $SIZES; do
	f=$W/orders_$s.csv
	db=$W/orders_$s.db
	rows=$(($(wc -l < "$f") - 1))
	echo "== $s: $rows rows"
	if [ ! -f "$db" ]; then
		rm -f "$db-wal" "$db-shm"
		"$BIN" import "$db" orders "$f" > /dev/null
	else
		# a database of an older schema migrates when opened for writing
		echo "order_id,customer_id,order_date,amount,channel" > "$W/empty_orders.csv"
		"$BIN" import "$db" orders "$W/empty_orders.csv" > /dev/null
	fi
	r1="$BIN report $f --as-of $AS_OF --format json --out $W/rep_$s.json"
	r2="$BIN report $db --as-of $AS_OF --format json --out $W/rep_db_$s.json"
	r3="$BIN report $f --as-of $AS_OF --only purchases,retention --format csv --out $W/pipe_$s --with-summary"
	a=$(measure "$r1"); echo "(r1) full report from CSV: $a"
	b=$(measure "$r2"); echo "(r2) full report from DB: $b"
	c=$(measure "$r3"); echo "(r3) pipeline equivalent: $c"
	p=$(measure "$(duck crm_duckdb.sql "$f")"); echo "    duckdb pipeline: $p"
	row "(r1) full report, every family, CSV -> JSON" "$rows" "$a"
	row "(r2) full report, every family, SQLite -> JSON" "$rows" "$b"
	row "(r3) load, summary, monthly, cohorts, write (CSV)" "$rows" "$c" "$p"
	families "$r1" | famtable "Per family, full report from CSV, $s rows ($rows):"
	families "$r2" | famtable "Per family, full report from SQLite, $s rows ($rows):"
	# the pipeline's numbers against DuckDB's: customers, months, revenue, cohort cells
	sh -c "$(duck crm_duckdb.sql "$f")" > "$W/duck_check.txt" 2>&1
	python3 - "$W/pipe_$s" "$W/duck_check.txt" <<'PY'
import csv, re, sys, os
d = sys.argv[1]
text = open(sys.argv[2]).read()
def read(name):
    p = os.path.join(d, name)
    return list(csv.reader(open(p))) if os.path.exists(p) else None
summary = read("customer_summary.csv")
customers = len(summary) - 1 if summary else -1
trends = read("purchases.trends.csv")
months = revenue = -1
if trends:
    h = trends[0]
    months = sum(1 for r in trends[1:] if r[h.index("orders")] not in ("", "0"))
    revenue = sum(float(r[h.index("revenue")] or 0) for r in trends[1:])
cohort = read("retention.cohort_retention.csv")
cells = -1
if cohort:
    cells = sum(1 for r in cohort[1:] for v in r[2:] if v not in ("", "0"))
import json
check = {}
for line in text.splitlines():
    line = line.strip()
    if line.startswith('{"rows"'):
        check = json.loads(line)
ok = (customers == int(check.get("customers", -2)) and months == int(check.get("months", -2))
      and abs(revenue - float(check.get("revenue", -2))) < 0.01
      and cells == int(check.get("cohort_cells", -2)))
print(f"    check: customers {customers}, months {months}, revenue {revenue:.2f}, "
      f"cohort cells {cells}; DuckDB {check.get('customers')}, {check.get('months')}, "
      f"{check.get('revenue')}, {check.get('cohort_cells')}: {'same' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
done

if [ "$DEMO" = 1 ]; then
	dd=$W/demo1m
	ddb=$W/demo1m.db
	if [ ! -f "$dd/orders.csv" ]; then
		"$BIN" demo --customers "$DEMO_CUSTOMERS" --seed 42 --out "$dd" > /dev/null
	fi
	if [ ! -f "$ddb" ]; then
		for e in customers orders interactions tickets leads spend feedback web_events; do
			"$BIN" import "$ddb" "$e" "$dd/$e.csv" --rejects "$W/demo1m_$e.rejects.csv" > /dev/null
		done
	fi
	orders=$(($(wc -l < "$dd/orders.csv") - 1))
	d1="$BIN report $ddb --format json --out $W/rep_demo_db.json"
	d2="$BIN report $dd/customers.csv $dd/orders.csv $dd/interactions.csv $dd/tickets.csv $dd/leads.csv $dd/spend.csv $dd/feedback.csv $dd/web_events.csv --format json --out $W/rep_demo_csv.json"
	x=$(measure "$d1"); echo "(d1) demo, full report from DB: $x"
	y=$(measure "$d2"); echo "(d2) demo, full report from CSV: $y"
	row "(d1) demo business ($orders orders), full report, SQLite -> JSON" "$orders" "$x"
	row "(d2) demo business ($orders orders), full report, CSV files -> JSON" "$orders" "$y"
	families "$d1" | famtable "Per family, demo business ($orders orders, $DEMO_CUSTOMERS customers), from SQLite:"
	families "$d2" | famtable "Per family, demo business, from the CSV files:"
fi
echo
cat "$out" "$fam"
