#!/usr/bin/env bash
# The catalogue face under load (issue: catalogue benchmark), in one run:
#   1. import of a catalogue of 10,000 value-added services: first import, the same
#      document again (nothing to write), and a changed document;
#   2. the value-added-services view of a product with 200 services, each requiring a
#      chain three deep, under wrk (32 connections), with the queries it costs per request.
#
#   bash bench/catalogue.sh [DATABASE_URL]     # default: a fresh SQLite file; a server's
#                                              # URL: a new database of the run's own there
#
# Environment: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_SKIP_BUILD=1.
# Writes bench-results/catalogue-<time>/summary.md. Only talks to 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" catalogue
CONNECTIONS=${BENCH_CONNECTIONS:-32}

use_database "${1:-${BENCH_DATABASE_URL:-}}" catalogue.db
ORG=bench$RANDOM$RANDOM
export SPCM_DATABASE_URL=$DB_URL RUST_LOG=${RUST_LOG:-info}
"$SPCM" migrate >/dev/null
"$SPCM" tenant add "$ORG" >/dev/null
TOKEN=$("$SPCM" token create --tenant "$ORG" --permission CATALOGUE_READ_PERMISSION --permission CATALOGUE_WRITE_PERMISSION)
serve_spcm

python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
big = {"value_added_services": [{"id": f"V{i}", "name": f"service {i}", "mysim_service_id": f"MS{i}",
        "requires": [{"value_added_service_id": f"V{i+1}", "is_mandatory": False, "max_quantity": 1}] if i % 10 != 9 else []}
       for i in range(10_000)],
       "commercial_products": [{"id": f"C{c}", "name": f"product {c}", "value_added_services": [
           {"value_added_service_id": f"V{c * 50 + k}", "is_mandatory": False, "max_quantity": 2, "sale_type_names": ["Venta"]}
           for k in range(50)]} for c in range(100)]}
json.dump(big, open(f"{tmp}/big.json", "w"))
big["value_added_services"][0]["name"] = "service 0, renamed"
json.dump(big, open(f"{tmp}/big-changed.json", "w"))
vas, links = [], []
for i in range(200):
    vas += [{"id": f"T{i}", "name": f"top {i}", "requires": [{"value_added_service_id": f"M{i}", "is_mandatory": True, "max_quantity": 1}]},
            {"id": f"M{i}", "name": f"middle {i}", "requires": [{"value_added_service_id": f"L{i}", "is_mandatory": False, "max_quantity": 2}]},
            {"id": f"L{i}", "name": f"leaf {i}", "mysim_service_id": f"MS{i}"}]
    links.append({"value_added_service_id": f"T{i}", "is_mandatory": False, "max_quantity": 1})
json.dump({"value_added_services": vas, "commercial_products": [{"id": "2311", "name": "Fibra 600", "value_added_services": links}]},
          open(f"{tmp}/nested.json", "w"))
PY

import() {  # FILE → seconds
    curl -s -o "$TMP/import.out" -w '%{http_code} %{time_total}\n' -X PUT "$BASE/v2/orgs/$ORG/catalogue" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary "@$1"
}
BIG_BYTES=$(stat -c %s "$TMP/big.json")
read -r s1 t1 < <(import "$TMP/big.json")
read -r s2 t2 < <(import "$TMP/big.json")
read -r s3 t3 < <(import "$TMP/big-changed.json")
[[ $s1 == 200 && $s2 == 200 && $s3 == 200 ]] || { cat "$TMP/import.out"; echo "import failed: $s1 $s2 $s3" >&2; exit 1; }

read -r s4 _ < <(import "$TMP/nested.json")
[[ $s4 == 200 ]] || { cat "$TMP/import.out"; exit 1; }
VIEW="$BASE/v2/orgs/$ORG/commercial_products/2311/value_added_services"
VIEW_BYTES=$(curl -s "$VIEW" -H "Authorization: Bearer $TOKEN" | wc -c)
queries() { curl -s "$BASE/metrics" | awk '$1 == "spcm_db_queries_total" { print $2 }'; }
q0=$(queries)
for _ in $(seq 100); do curl -s -o /dev/null "$VIEW" -H "Authorization: Bearer $TOKEN"; done
q1=$(queries)
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency -H "Authorization: Bearer $TOKEN" "$VIEW" >"$RESULTS/wrk-vas.txt"
RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$RESULTS/wrk-vas.txt")
P50=$(awk '$1 == "50%" { print $2 }' "$RESULTS/wrk-vas.txt")
P99=$(awk '$1 == "99%" { print $2 }' "$RESULTS/wrk-vas.txt")
NON2XX=$(awk '/Non-2xx/ { print $NF }' "$RESULTS/wrk-vas.txt")
RSS=$(awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")
BACKEND=$(echo "$DB_URL" | sed -E 's#^(sqlite|postgres|postgresql|mysql)://.*#\1#; s#^/.*#sqlite#')

{
    echo "## catalogue benchmark, $RUN_ID ($BACKEND; $(load_shown))"
    echo
    echo "Command: \`bash bench/catalogue.sh${1:+ <url>}\`; 2 cores shared with wrk (2 threads, $CONNECTIONS connections, ${DURATION}s)."
    echo
    echo "| scenario | figure |"
    echo "| --- | --- |"
    echo "| import of 10,000 value-added services + 100 products × 50 links ($((BIG_BYTES / 1024)) KiB), first | ${t1} s |"
    echo "| the same document again (validated, nothing written) | ${t2} s |"
    echo "| the document with one name changed (replaced whole) | ${t3} s |"
    echo "| VAS view, 200 services nested 3 deep ($VIEW_BYTES B): requests/s | $RPS |"
    echo "| VAS view: p50 / p99 | $P50 / $P99 |"
    echo "| VAS view: database statements per request | $(awk -v a="$q0" -v b="$q1" 'BEGIN { printf "%.1f", (b - a) / 100 }') |"
    echo "| VAS view: non-2xx responses | ${NON2XX:-0} |"
    echo "| resident memory after the run | $RSS MB |"
} | tee "$RESULTS/summary.md"
