#!/usr/bin/env bash
# Overload (issue: operations and resilience): GET one profile at the sustainable load,
# then at twice that load, with the in-flight bound set to the sustainable concurrency.
# Requests beyond the bound are answered 503 at once; the point is that the requests
# that are admitted keep their latency. Admitted latency is read from spcm's own
# histogram (`spcm_http_request_duration_seconds` of the route: shed requests never
# reach a route), overall latency from wrk.
#
#   bash bench/overload.sh          # BENCH_SECONDS (10), BENCH_IN_FLIGHT (16), BENCH_SKIP_BUILD=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" overload
IN_FLIGHT=${BENCH_IN_FLIGHT:-16}
PASSWORD=bench-password-$RANDOM$RANDOM
serve_spcm SPCM_DATABASE_URL=sqlite://$TMP/o.db SPCM_BOOTSTRAP_PASSWORD=$PASSWORD SPCM_MAX_IN_FLIGHT=$IN_FLIGHT
AUTH=(-u "admin:$PASSWORD" -H "tenant: default")
ID=$(curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"name":"turkeySauce","defaultProfile":true}' \
    "$BASE/pcc/spcm/provisionProfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
URL="$BASE/pcc/spcm/provisionProfile/$ID"
B64=$(printf 'admin:%s' "$PASSWORD" | base64)

# Cumulative histogram buckets of the GET-one route: "le count" lines.
buckets() {
    curl -s "$BASE/metrics" | awk -F'[{}]' '/^spcm_http_request_duration_seconds_bucket/ && /provisionProfile\/\{id\}/ && /GET/ {
        match($2, /le="[^"]*"/); le = substr($2, RSTART + 4, RLENGTH - 5); split($3, v, " "); print le, v[2] }'
}
# quantile Q BEFORE AFTER: the bucket bound under which Q of the requests in between fell.
quantile() {
    join -a 2 -e 0 -o 0,1.2,2.2 <(sort "$2") <(sort "$3") | awk -v q="$1" '
        $1 == "+Inf" { total = $3 - $2; next }
        { le[++k] = $1; n[k] = $3 - $2 }
        END { for (i = 1; i <= k; i++) if (n[i] >= q * total && (best == "" || le[i] + 0 < best + 0)) best = le[i]
              if (best == "") printf "> 5000 ms"; else printf "≤ %g ms", best * 1000 }'
}
run() {  # NAME CONNECTIONS
    buckets >"$TMP/$1.before"
    wrk -t2 -c"$2" -d"${DURATION}s" --timeout 5s --latency -H "Authorization: Basic $B64" -H "tenant: default" \
        -s "$ROOT/bench/status.lua" "$URL" >"$RESULTS/wrk-$1.txt"
    buckets >"$TMP/$1.after"
    local rps p99 ok shed
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$RESULTS/wrk-$1.txt")
    p99=$(awk '$1 == "99%" { print $2 }' "$RESULTS/wrk-$1.txt")
    ok=$(awk '$1 == "status" && $2 == "200:" { print $3 }' "$RESULTS/wrk-$1.txt")
    shed=$(awk '$1 == "status" && $2 == "503:" { print $3 }' "$RESULTS/wrk-$1.txt")
    printf '| %s | %s | %s | %.0f | %.0f | %s | %s | %s |\n' "$1" "$2" "$rps" "$(( ${ok:-0} / DURATION ))" "$(( ${shed:-0} / DURATION ))" \
        "$(quantile 0.5 "$TMP/$1.before" "$TMP/$1.after")" "$(quantile 0.99 "$TMP/$1.before" "$TMP/$1.after")" "$p99"
}
{
    echo "## overload benchmark, $RUN_ID (SQLite, SPCM_MAX_IN_FLIGHT=$IN_FLIGHT; load average before: $LOADAVG_BEFORE)"
    echo
    echo "Command: \`bash bench/overload.sh\`; GET one profile with Basic auth; wrk 2 threads, ${DURATION}s per row; 2 cores shared with wrk."
    echo
    echo "| load | connections | responses/s | admitted (200)/s | shed (503)/s | admitted p50 (server) | admitted p99 (server) | all p99 (wrk) |"
    echo "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"
    run sustainable "$IN_FLIGHT"
    run twice "$((IN_FLIGHT * 2))"
    run four-times "$((IN_FLIGHT * 4))"
    echo
    echo "Load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$RESULTS/summary.md"
