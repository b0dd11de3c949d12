#!/usr/bin/env bash
# Where the CPU of a GET one goes, per answer: user and system time of the server's
# threads, their context switches, the version-check thread's share, database statements
# per answer and, for a database server on this machine, that server's CPU. The same for
# the bare actix-web handler, loaded the same way just before.
#
#   bash bench/costs.sh [DATABASE_URL]     # BENCH_SECONDS (10), BENCH_SKIP_BUILD=1
# With no URL, a fresh SQLite file; with a PostgreSQL or MariaDB URL, a new database of
# the run's own on that server, dropped at the end.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" costs
use_database "${1:-}" costs.db
PASSWORD=bench-password-$RANDOM$RANDOM
TENANT=default
serve_spcm SPCM_DATABASE_URL="$DB_URL" SPCM_BOOTSTRAP_PASSWORD="$PASSWORD"
AUTH=(-u "admin:$PASSWORD" -H "tenant: $TENANT")
ID=$(curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"name":"costs","defaultProfile":false}' \
    "$BASE/pcc/spcm/provisionProfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
URL="$BASE/pcc/spcm/provisionProfile/$ID"
BYTES=$(curl -s "${AUTH[@]}" "$URL" | wc -c)
B64=$(printf 'admin:%s' "$PASSWORD" | base64)
# threads PID → "tid name cpu-ticks voluntary involuntary" per thread
threads() {
    for t in /proc/"$1"/task/*; do
        printf '%s %s %s %s\n' "${t##*/}" "$(tr ' |' '__' <"$t/comm")" "$(awk '{ print $14 + $15 }' "$t/stat")" \
            "$(awk '/^voluntary_ctxt/ { v = $2 } /^nonvoluntary_ctxt/ { n = $2 } END { print v, n }' "$t/status")"
    done
}
# utime and stime of a process, in ticks
times() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
# CPU ticks of every process of the database server on this machine (0 if none)
statements() { curl -s "$BASE/metrics" | awk '$1 == "spcm_db_queries_total" { print $2 }'; }
load() {  # PID URL NAME → sets REQS, and writes the thread snapshots
    threads "$1" >"$TMP/$3.before"
    read -r U1 S1 < <(times "$1")
    local d1 q1
    d1=$(db_ticks "$SERVER_URL")
    q1=$( [[ $3 == spcm ]] && statements || echo 0)
    wrk -t2 -c32 -d"${DURATION}s" -H "Authorization: Basic $B64" -H "tenant: $TENANT" "$2" >"$RESULTS/wrk-$3.txt"
    read -r U2 S2 < <(times "$1")
    DB_TICKS=$(($(db_ticks "$SERVER_URL") - d1))
    STATEMENTS=$( [[ $3 == spcm ]] && echo $(($(statements) - q1)) || echo 0)
    threads "$1" >"$TMP/$3.after"
    REQS=$(awk '/requests in/ { print $1 }' "$RESULTS/wrk-$3.txt")
    USER_TICKS=$((U2 - U1))
    SYS_TICKS=$((S2 - S1))
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))
per() { awk -v t="$1" -v n="$REQS" -v u="$TICK_US" 'BEGIN { printf "%.1f", t * u / n }'; }
# the workers' (actix-rt) and the version thread's ticks and switches, per answer: each
# thread's after minus its before, matched by thread id (threads come and go in between)
thread_row() {  # NAME PATTERN
    awk -v n="$REQS" -v u="$TICK_US" -v name="$2" '
        FNR == NR { cpu0[$1] = $3; v0[$1] = $4; i0[$1] = $5; next }
        $2 ~ name { cpu += $3 - cpu0[$1]; v += $4 - v0[$1]; i += $5 - i0[$1] }
        END { printf "%.1f µs | %.2f | %.2f", cpu * u / n, v / n, i / n }' "$TMP/$1.before" "$TMP/$1.after"
}

"$ROOT/target/release/examples/bare" 127.0.0.1:0 "$BYTES" >"$RESULTS/bare.log" 2>&1 &
BARE=$!
for _ in $(seq 100); do
    BARE_PORT=$(grep -m1 -oE 'listening on 127\.0\.0\.1:[0-9]+' "$RESULTS/bare.log" | grep -oE '[0-9]+$' || true)
    [[ -n $BARE_PORT ]] && break
    sleep 0.1
done
wrk -t2 -c32 -d2s "http://127.0.0.1:$BARE_PORT/" >/dev/null
load "$BARE" "http://127.0.0.1:$BARE_PORT/pcc/spcm/provisionProfile/$ID" bare
BARE_ROW="| bare actix-web | $(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$RESULTS/wrk-bare.txt") | $(per "$USER_TICKS") µs | $(per "$SYS_TICKS") µs | $(thread_row bare actix-rt) | | | |"
kill "$BARE"
wrk -t2 -c32 -d2s -H "Authorization: Basic $B64" -H "tenant: $TENANT" "$URL" >/dev/null
load "$PID" "$URL" spcm
VERSIONS=$(thread_row spcm spcm-versions | cut -d' ' -f1-2)
{
    echo "## CPU per GET-one answer, $RUN_ID ($(echo "$DB_URL" | cut -d: -f1); $(load_shown))"
    echo
    echo "Command: \`bash bench/costs.sh${1:+ <url>}\`; wrk 2 threads, 32 connections, ${DURATION}s, on the same 2 cores; CPU from /proc."
    echo
    echo "Per answer: the process's user and system CPU; its HTTP workers' CPU and context switches (voluntary: waiting; involuntary: preempted);"
    echo "the version-check thread's CPU; database statements; the database server's CPU (its processes on this machine)."
    echo
    echo "| server | answers/s | user | system | workers | voluntary | involuntary | version thread | statements | database server |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "$BARE_ROW"
    echo "| spcm GET one | $(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$RESULTS/wrk-spcm.txt") | $(per "$USER_TICKS") µs | $(per "$SYS_TICKS") µs | $(thread_row spcm actix-rt) | $VERSIONS | $(awk -v q="$STATEMENTS" -v n="$REQS" 'BEGIN { printf "%.3f", q / n }') | $(per "$DB_TICKS") µs |"
} | tee "$RESULTS/summary.md"
