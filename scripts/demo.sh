#!/bin/sh
# demo.sh - `make demo`: generate the demo business, import it into
# demo/crm.db, print the import summaries, an overview and the quality
# scores, and write the report (text, JSON, and CSV tables) and the
# per-customer table under demo/.
set -eu
BIN=${BIN:-build/crmscope}
OUT=${OUT:-demo}
CUSTOMERS=${CUSTOMERS:-5000}
SEED=${SEED:-42}

rm -rf "$OUT"
mkdir -p "$OUT"
"$BIN" demo --customers "$CUSTOMERS" --seed "$SEED" --out "$OUT/data"
echo
# customers first, so that the other entities find them
for e in customers orders interactions tickets leads spend feedback web_events; do
	"$BIN" import "$OUT/crm.db" "$e" "$OUT/data/$e.csv"
	echo
done
"$BIN" stats "$OUT/crm.db"
echo
"$BIN" overview "$OUT/crm.db"
echo
"$BIN" customers "$OUT/crm.db" --out "$OUT/customers.csv"
echo "per-customer table written to $OUT/customers.csv ($(($(wc -l < "$OUT/customers.csv") - 1)) customers); first rows:"
head -6 "$OUT/customers.csv"
echo
# the quality scores: the table of the quality report
"$BIN" quality "$OUT/crm.db" --out "$OUT/quality.txt"
sed -n '/Quality score per entity/,/^  quality score of/p' "$OUT/quality.txt" | sed '$d'
echo
"$BIN" report "$OUT/crm.db" --out "$OUT/report.txt"
"$BIN" report "$OUT/crm.db" --format json --out "$OUT/report.json"
"$BIN" report "$OUT/crm.db" --format csv --out "$OUT/report"
echo "report written: $OUT/report.txt ($(wc -l < "$OUT/report.txt") lines, every family of METRICS.md),"
echo "  $OUT/report.json (docs/report.schema.json) and $OUT/report/ (one CSV per table); its start:"
echo
sed -n '1,/^  Net revenue in P/p' "$OUT/report.txt"
