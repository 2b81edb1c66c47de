#!/bin/sh
# demo.sh - `make demo`: generate the demo business, import it into
# demo/crm.db, and print the import summaries and an overview.
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
echo "per-customer purchase summary written to $OUT/customers.csv ($(($(wc -l < "$OUT/customers.csv") - 1)) customers); first rows:"
head -6 "$OUT/customers.csv"
