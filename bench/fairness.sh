#!/usr/bin/env bash
# Fair sharing between tenants (issue: fair sharing): tenant B's latency alone, then while
# tenant A runs its heaviest legal mix, in one run:
#   1. tenants A and B from the CLI, each with a user (profile read/create/update/delete,
#      audit read); A with a catalogue token (read + write), 10,000 profiles (POSTed in
#      batches of 1,000) and a legal catalogue document of 9.4 MB imported once; B with
#      100 profiles (BENCH_B_PROFILES);
#   2. "alone": B's GET one and PUT one (a small change) of its own profiles, closed loop,
#      BENCH_B_CONNECTIONS connections each, for BENCH_SECONDS;
#   3. "under A": A's mix in the background (BENCH_A_MIX workers, each in a loop:
#      catalogue imports of the 9.4 MB document, exports, listings of all 10,000 profiles
#      without `limit`, 207 batches of 1,000 PUT items, catalogue views of up to 10,000
#      services, history without `limit`, feed pages of 1,000 changes); after
#      BENCH_A_WARMUP seconds, the same B workload for BENCH_SECONDS.
# Target (contract §1.1): B's GET and PUT p99 under A within 3× of B alone, and none of B's
# requests refused. A's 429s (the per-tenant bound on expensive work) are expected; A
# tries again after Retry-After or 0.25 s, whichever is less.
#
#   bash bench/fairness.sh [DATABASE_URL]      # default: a fresh SQLite file; a server's
#                                              # URL: a new database of the run's own there
#
# Environment: BENCH_SECONDS (15), BENCH_QUIET_WAIT (30: seconds to wait, before each phase,
# for the machine to be nearly idle), BENCH_B_CONNECTIONS (4), BENCH_B_PROFILES (100),
# BENCH_A_WARMUP (5), BENCH_A_MIX (imports=3,exports=3,listings=3,batches=3,views=2,history=1,feed=1),
# BENCH_SKIP_BUILD=1, BENCH_CARGO_FLAGS ("--features mysql" for MariaDB); SPCM_TENANT_EXPENSIVE_LIMIT,
# SPCM_POOL_SIZE and other SPCM_* settings pass through to spcm.
# During each phase bench/fairness.py samples once a second: /metrics (pool, in flight,
# statements, shed), the CPU of spcm, of the database server, of the load generators and
# of the machine, a 4 KiB write + fsync beside the database file, and on PostgreSQL or
# MariaDB what the run's database sessions wait for; around each phase, the route
# histograms, caches, the bound's refusals, and each thread's CPU and run-queue wait.
# Writes bench-results/fairness-<time>/ (summary.md, raw files). Only talks to 127.0.0.1.
BENCH_SECONDS=${BENCH_SECONDS:-15}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" fairness
B_CONNECTIONS=${BENCH_B_CONNECTIONS:-4}
B_PROFILES=${BENCH_B_PROFILES:-100}
A_WARMUP=${BENCH_A_WARMUP:-5}
A_MIX=${BENCH_A_MIX:-imports=3,exports=3,listings=3,batches=3,views=2,history=1,feed=1}
A_PROFILES=10000
HELPER=$ROOT/bench/fairness.py
[[ $DURATION =~ ^[1-9][0-9]*$ && $A_WARMUP =~ ^[0-9]+$ ]] || { echo "BENCH_SECONDS and BENCH_A_WARMUP must be integers" >&2; exit 1; }

# The sampler and A's load, if running, end before common.sh's cleanup waits for children.
SAMPLER="" A_LOAD=""
stop_background() {
    local pid
    for pid in $SAMPLER $A_LOAD; do kill "$pid" 2>/dev/null || true; done
}
trap 'stop_background; cleanup' EXIT
log() { printf '[fairness %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
QUIET_WAIT=${BENCH_QUIET_WAIT:-30}
HZ=$(getconf CLK_TCK)
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# Waits up to BENCH_QUIET_WAIT seconds for the machine to be nearly idle (under half a
# core busy over one second), so that a build elsewhere skews a phase less; the
# summary's samples show what else ran anyway.
wait_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT)) a b
    while ((SECONDS < deadline)); do
        a=$(busy_ticks)
        sleep 1
        b=$(busy_ticks)
        (((b - a) * 2 < HZ)) && return 0
    done
    log "the machine is still busy; measuring anyway"
}

use_database "${1:-${BENCH_DATABASE_URL:-}}" fairness.db
BACKEND=$(echo "$DB_URL" | sed -E 's#^(sqlite|postgres|postgresql|mysql|mariadb)://.*#\1#; s#^/.*#sqlite#; s#^postgresql$#postgres#')
PASSWORD=bench-password-$RANDOM$RANDOM$RANDOM
export SPCM_DATABASE_URL=$DB_URL SPCM_BOOTSTRAP_PASSWORD=$PASSWORD RUST_LOG=${RUST_LOG:-info}
log "results in $RESULTS; backend $BACKEND"
"$SPCM" migrate >/dev/null
PROFILE_PERMISSIONS=(--permission SPCM_PROVISION_PROFILE_READ_PERMISSION --permission SPCM_PROVISION_PROFILE_CREATE_PERMISSION
    --permission SPCM_PROVISION_PROFILE_UPDATE_PERMISSION --permission SPCM_PROVISION_PROFILE_DELETE_PERMISSION
    --permission SPCM_AUDIT_READ_PERMISSION)
for tenant in tenant-a tenant-b; do
    "$SPCM" tenant add "$tenant" >/dev/null
    "$SPCM" user add --tenant "$tenant" --username bench "${PROFILE_PERMISSIONS[@]}" <<<"$PASSWORD" >/dev/null
done
TOKEN_A=$("$SPCM" token create --tenant tenant-a --permission CATALOGUE_READ_PERMISSION --permission CATALOGUE_WRITE_PERMISSION)
serve_spcm

log "seeding $A_PROFILES profiles of A and $B_PROFILES of B; writing A's catalogue"
python3 "$HELPER" seed "$BASE" tenant-a bench "$PASSWORD" "$A_PROFILES" a "$TMP/a-ids.txt"
python3 "$HELPER" seed "$BASE" tenant-b bench "$PASSWORD" "$B_PROFILES" b "$TMP/b-ids.txt"
python3 "$HELPER" catalogue "$TMP" a "$A_PROFILES"
DOC_BYTES=$(stat -c %s "$TMP/catalogue-0.json")
read -r IMPORT_STATUS IMPORT_SECONDS < <(curl -s -o "$TMP/import.out" -w '%{http_code} %{time_total}\n' -X PUT \
    "$BASE/v2/orgs/tenant-a/catalogue" -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json' \
    --data-binary "@$TMP/catalogue-0.json")
[[ $IMPORT_STATUS == 200 ]] || { head -c 1000 "$TMP/import.out" >&2; echo "A's catalogue import answered $IMPORT_STATUS" >&2; exit 1; }
cp "$TMP/import.out" "$RESULTS/import-counts.json"
read -r EXPORT_STATUS EXPORT_BYTES EXPORT_SECONDS < <(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' \
    "$BASE/v2/orgs/tenant-a/catalogue" -H "Authorization: Bearer $TOKEN_A")
[[ $EXPORT_STATUS == 200 ]] || { echo "A's catalogue export answered $EXPORT_STATUS" >&2; exit 1; }
B_IDS=$(paste -sd, "$TMP/b-ids.txt")

# A's mix runs from A_WARMUP seconds before B's measured run until just after it ends.
A_SECONDS=$((A_WARMUP + DURATION + 2))
python3 - "$A_MIX" "$TMP" "$BASE" "$TOKEN_A" "$PASSWORD" "$A_SECONDS" "$RESULTS/a-requests.tsv" >"$TMP/load.json" <<'PY'
import json, sys
mix, tmp, base, token, password, seconds, out = sys.argv[1:]
kinds = {"imports": "import", "exports": "export", "listings": "listing", "batches": "batch", "views": "view",
         "history": "history", "feed": "feed"}
counts = dict(item.split("=") for item in mix.split(",") if item)
unknown = set(counts) - set(kinds)
if unknown:
    sys.exit(f"BENCH_A_MIX: unknown {', '.join(sorted(unknown))} (one of {', '.join(kinds)})")
json.dump({"base": base, "tenant": "tenant-a", "user": "bench", "password": password, "token": token,
           "seconds": int(seconds), "mix": {kinds[k]: int(n) for k, n in counts.items() if int(n) > 0},
           "documents": [f"{tmp}/catalogue-0.json", f"{tmp}/catalogue-1.json"], "ids": f"{tmp}/a-ids.txt",
           "views": f"{tmp}/views.txt", "out": out}, sys.stdout)
PY
cat >"$TMP/sample.json" <<JSON
{"database_url": "$DB_URL", "base": "$BASE", "pid": $PID, "script": $$, "probe_dir": "$TMP"}
JSON
# phase NAME: B's GET and PUT for BENCH_SECONDS, with the samples around and during it.
phase() {
    local name=$1 log_from
    log "phase $name: B's GET and PUT, $B_CONNECTIONS connections each, ${DURATION}s"
    log_from=$(($(wc -l <"$RESULTS/spcm.log") + 1))
    curl -s "$BASE/metrics" >"$RESULTS/metrics-$name-before.txt"
    python3 "$HELPER" threads "$PID" >"$RESULTS/threads-$name-before.txt"
    python3 "$HELPER" sample "$TMP/sample.json" "$RESULTS/samples-$name.tsv" &
    SAMPLER=$!
    for method in GET PUT; do
        FAIRNESS_METHOD=$method FAIRNESS_IDS=$B_IDS wrk -t1 -c"$B_CONNECTIONS" -d"${DURATION}s" --timeout 5s \
            -H "Authorization: Basic $(printf 'bench:%s' "$PASSWORD" | base64 -w0)" -H "tenant: tenant-b" \
            -s "$ROOT/bench/fairness.lua" "$BASE" >"$RESULTS/wrk-$name-$method.txt" 2>&1 &
        WRK[$method]=$!
    done
    wait "${WRK[GET]}" "${WRK[PUT]}"
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
    SAMPLER=""
    python3 "$HELPER" threads "$PID" >"$RESULTS/threads-$name-after.txt"
    curl -s "$BASE/metrics" >"$RESULTS/metrics-$name-after.txt"
    tail -n +"$log_from" "$RESULTS/spcm.log" >"$RESULTS/spcm-$name.log"
}
declare -A WRK

wait_quiet
LOAD_BEFORE_ALONE=$(cut -d' ' -f1-3 /proc/loadavg)
phase alone
LOAD_AFTER_ALONE=$(cut -d' ' -f1-3 /proc/loadavg)

wait_quiet
log "phase under-a: A's mix ($A_MIX) for ${A_WARMUP}s before B starts, then with B"
LOAD_BEFORE_A=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$HELPER" load "$TMP/load.json" &
A_LOAD=$!
sleep "$A_WARMUP"  # A's loops are under way before B's measured run starts
phase under-a
LOAD_AFTER_A=$(cut -d' ' -f1-3 /proc/loadavg)
log "waiting for A's requests in flight to finish"
wait "$A_LOAD" || { A_LOAD=""; echo "tenant A's load failed" >&2; exit 1; }
A_LOAD=""

# ---- report ------------------------------------------------------------------------------

# value PHASE METHOD KEY: one "key value" line of B's wrk output (0 when absent).
value() { awk -v k="$3" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$RESULTS/wrk-$1-$2.txt"; }
ms() { awk -v us="$(value "$1" "$2" "$3")" 'BEGIN { printf "%.1f", us / 1000 }'; }
ratio() { awk -v a="$(value alone "$1" "$2")" -v b="$(value under-a "$1" "$2")" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }'; }
answered() { value "$1" "$2" requests; }
# refused PHASE METHOD: B's requests without a 2xx answer (statuses and wrk's errors).
refused() {
    awk '$1 ~ /^status_/ { s = substr($1, 8) + 0; if (s < 200 || s > 299) n += $2 } $1 ~ /^error_/ { n += $2 } END { print n + 0 }' \
        "$RESULTS/wrk-$1-$2.txt"
}
statuses() {
    awk '$1 ~ /^(status|error)_/ { sub(/^status_/, "", $1); sub(/^error_/, "socket ", $1); if ($2 > 0) { printf "%s%s: %s", sep, $1, $2; sep = ", " } }' \
        "$RESULTS/wrk-$1-$2.txt"
}
verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "**missed**"; }
for method in GET PUT; do
    [[ $(answered alone "$method") -gt 0 && $(answered under-a "$method") -gt 0 ]] || {
        cat "$RESULTS/wrk-alone-$method.txt" "$RESULTS/wrk-under-a-$method.txt" >&2
        echo "B's $method answered nothing" >&2
        exit 1
    }
done
REFUSED=$(($(refused under-a GET) + $(refused under-a PUT)))
REFUSED_ALONE=$(($(refused alone GET) + $(refused alone PUT)))
{
    echo "## fair sharing between tenants, $RUN_ID ($BACKEND; $(load_shown))"
    echo
    echo "Command: \`bash bench/fairness.sh${1:+ <url>}\`; B: wrk, GET and PUT of its $B_PROFILES profiles in turn, $B_CONNECTIONS"
    echo "connections each, ${DURATION}s per phase; A: $A_MIX concurrent loops, from ${A_WARMUP}s before B's run to its end (${A_SECONDS}s);"
    echo "A's catalogue document $((DOC_BYTES / 1024)) KiB (first import ${IMPORT_SECONDS}s alone, export $((EXPORT_BYTES / 1024)) KiB in ${EXPORT_SECONDS}s);"
    echo "$(nproc) cores shared by spcm, the database server, wrk, A's client and whatever else runs."
    echo "spcm: commit $(git rev-parse --short HEAD), SPCM_TENANT_EXPENSIVE_LIMIT=${SPCM_TENANT_EXPENSIVE_LIMIT:-2 (default)},"
    echo "SPCM_POOL_SIZE=${SPCM_POOL_SIZE:-8 (default)}, SPCM_WORKERS=${SPCM_WORKERS:-one per core (default)}, RUST_LOG=$RUST_LOG."
    echo "Load average: alone $LOAD_BEFORE_ALONE → $LOAD_AFTER_ALONE; under A $LOAD_BEFORE_A → $LOAD_AFTER_A."
    echo
    echo "| B's figure | alone | under A | ratio | target | verdict |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    for method in GET PUT; do
        echo "| $method p50 | $(ms alone $method p50_us) ms | $(ms under-a $method p50_us) ms | $(ratio $method p50_us)× | | |"
        echo "| $method p99 | $(ms alone $method p99_us) ms | $(ms under-a $method p99_us) ms | $(ratio $method p99_us)× | ≤ 3× | $(verdict "$(ratio $method p99_us) <= 3.0") |"
        echo "| $method max | $(ms alone $method max_us) ms | $(ms under-a $method max_us) ms | | | |"
        echo "| $method answers/s | $(($(answered alone $method) / DURATION)) | $(($(answered under-a $method) / DURATION)) | $(ratio $method requests)× | | |"
    done
    echo "| refused (not 2xx, or no answer) | $REFUSED_ALONE | $REFUSED | | 0 | $(verdict "$REFUSED == 0") |"
    echo
    echo "B's answers by status: alone GET $(statuses alone GET); PUT $(statuses alone PUT); under A GET $(statuses under-a GET); PUT $(statuses under-a PUT)."
    echo
    python3 "$HELPER" a-summary "$RESULTS/a-requests.tsv" "$A_SECONDS"
    echo
    echo "Where the time goes (samples once a second; raw files in bench-results/fairness-$RUN_ID/):"
    echo
    python3 "$HELPER" digest "$RESULTS" "$DURATION" alone under-a
} | tee "$RESULTS/summary.md"
