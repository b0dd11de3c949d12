#!/usr/bin/env bash
# Follows README.md as a newcomer would: clones the repository afresh, puts an already
# built `spcm` on PATH (instead of the README's `cargo install`), runs the README's
# ```sh blocks in order in one bash with `set -e`, then checks, in order, what their
# comments promise (statuses, headers, outputs).
#
# Markers, on the line before a ```sh fence:
#   <!-- readme-test: skip … -->   not run (installing, the test suite itself)
#   <!-- readme-test: backends --> run only with README_TEST_BACKENDS=1 (needs PostgreSQL
#                                  and MariaDB on 127.0.0.1 and a binary with `mysql`)
#
# Usage: scripts/readme-test.sh [BINARY]   (default target/debug/spcm)
# The clone is of the committed HEAD: commit README changes before testing them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
binary=$(realpath "${1:-$repo/target/debug/spcm}")
[[ -x $binary ]] || { echo "readme-test: no spcm binary at $binary; build it first" >&2; exit 1; }
if timeout 2 bash -c '</dev/tcp/127.0.0.1/8080' 2>/dev/null; then
    echo "readme-test: 127.0.0.1:8080 is taken; the README serves there" >&2
    exit 1
fi

work=$(mktemp -d)
cleanup() {
    # The README stops its server; should a step fail before that, stop it here.
    if [[ -f $work/server.pid ]]; then kill "$(cat "$work/server.pid")" 2>/dev/null || true; fi
    if [[ ${README_TEST_BACKENDS:-0} == 1 ]]; then
        dropdb -h 127.0.0.1 -U postgres --if-exists spcm_readme >/dev/null 2>&1 || true
        mysql -h 127.0.0.1 -u root -e 'DROP DATABASE IF EXISTS spcm_readme' >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

git clone -q "$repo" "$work/clone"
mkdir "$work/bin"
ln -s "$binary" "$work/bin/spcm"
if [[ ${README_TEST_BACKENDS:-0} == 1 ]]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists spcm_readme >/dev/null 2>&1 || true
    mysql -h 127.0.0.1 -u root -e 'DROP DATABASE IF EXISTS spcm_readme' >/dev/null 2>&1 || true
fi

# The blocks, in order, each announced on stdout.
awk -v backends="${README_TEST_BACKENDS:-0}" -v pidfile="$work/server.pid" '
    /^<!-- readme-test: skip/ { marker = "skip"; next }
    /^<!-- readme-test: backends -->/ { marker = "backends"; next }
    /^```sh$/ {
        block++
        run = !(marker == "skip" || (marker == "backends" && backends != 1))
        marker = ""
        inside = 1
        if (run) printf "echo \"### block %d\"\n", block
        next
    }
    /^```/ && inside {
        inside = 0
        if (run) printf "if [[ -n ${SERVER:-} ]]; then echo \"$SERVER\" > %s; fi\n", pidfile
        next
    }
    inside && run { print; next }
    /^[^<]/ { marker = "" }
' "$work/clone/README.md" >"$work/readme.sh"

echo "readme-test: running $(grep -c '^echo "### block' "$work/readme.sh") blocks of README.md in $work/clone"
status=0
(cd "$work/clone" && env -u SPCM_DATABASE_URL -u SPCM_BIND -u SPCM_BOOTSTRAP_PASSWORD -u SPCM_BOOTSTRAP_TENANT \
    PATH="$work/bin:$PATH" timeout 600 bash -e "$work/readme.sh") >"$work/out.txt" 2>&1 || status=$?
if ((status != 0)); then
    cat "$work/out.txt" >&2
    echo "readme-test: the README's commands failed (exit $status); the output is above" >&2
    [[ -f $work/clone/spcm.log ]] && { echo "--- spcm.log" >&2; tail -20 "$work/clone/spcm.log" >&2; }
    exit 1
fi

# What the comments promise, in the order the README shows it (case-insensitive regexes).
expect=(
    '^spcm [0-9]+\.[0-9]+\.[0-9]+'
    '^ready$'
    '"swaggerUi":"/swagger-ui/"'
    '^HTTP/1.1 201 Created' '^location: /pcc/spcm/provisionProfile/1' '"name":"turkeySauce"'
    '^HTTP/1.1 201 Created' '^location: /pcc/spcm/provisionProfile/2' '"name":"chaCha","defaultProfile":true'
    '^HTTP/1.1 200 OK' '^x-total-count: 2' '"length":2,"provisioningProfileDTOList"'
    '^HTTP/1.1 200 OK' '^x-total-count: 1' '"name":"chaCha"'
    '^HTTP/1.1 200 OK' '"subscriberClass":"platinum"'
    '^HTTP/1.1 200 OK' '"id":1,"name":"turkeySauce","defaultProfile":true'
    '^HTTP/1.1 422' '"errorCode":1002'
    '^HTTP/1.1 422' '"errorCode":1001'
    '^HTTP/1.1 207' '"status":201.*"status":201.*"status":409'
    '^HTTP/1.1 207' '"status":204.*"status":404'
    '^HTTP/1.1 204 No Content'
    '^HTTP/1.1 404 Not Found'
    '### block'
    '^HTTP/1.1 200 OK' '"bundled_products":[1-9]'
    '"name":"turkeySauce","in_catalogue_since"'
    '"id":"71_COMPRODUCT"'
    '^HTTP/1.1 409'
    '### block'
    "^tenant 'acme' created"
    '^acme$'
    "^user 'ops' added to tenant 'acme'"
    "^user 'boss' added to tenant 'acme'"
    "^password of 'ops' changed"
    "^permissions of 'ops': SPCM_PROVISION_PROFILE_READ_PERMISSION,SPCM_AUDIT_READ_PERMISSION$"
    '^ops	SPCM_PROVISION_PROFILE_READ_PERMISSION,SPCM_AUDIT_READ_PERMISSION$'
    "^user 'ops' removed"
    '^ID	STATUS	CREATED	EXPIRES	PERMISSIONS$'
    '^[0-9]+	active	[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z	[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z	CATALOGUE_READ_PERMISSION$'
    '^token [0-9]+ revoked$'
    '"bundled_products":[1-9]'
    '^nothing to apply'
    '^backup written to spcm-backup.db$'
    '### block'
    '^HTTP/1.1 200 OK' '"changes":\[\{.*"eventType":"PROVISION_PROFILE_'
    '^HTTP/1.1 200 OK' '"changes":\[\{.*"_links":\{"self".*"next":\{"href":"/pcc/spcm/changes\?after='
    '^\{"id":[0-9]+,.*"eventType":"TENANT_CREATED"'
)
line=0
for pattern in "${expect[@]}"; do
    found=$(tail -n +"$((line + 1))" "$work/out.txt" | grep -n -i -E -m1 -- "$pattern" | cut -d: -f1 || true)
    if [[ -z $found ]]; then
        cat "$work/out.txt" >&2
        echo "readme-test: after line $line of the output above, nothing matches: $pattern" >&2
        exit 1
    fi
    line=$((line + found))
done

# What the walk-through leaves behind.
clone=$work/clone
grep -q '"listening"' "$clone/spcm.log" || { echo "readme-test: spcm.log holds no server log" >&2; exit 1; }
if grep -q -v '^{' "$clone/spcm.log"; then
    echo "readme-test: spcm.log holds lines other than JSON logs (a generated password?)" >&2
    exit 1
fi
[[ $(head -c 15 "$clone/spcm-backup.db") == "SQLite format 3" ]] || { echo "readme-test: no SQLite backup" >&2; exit 1; }
grep -q '"BP1"' "$clone/exported.json" || { echo "readme-test: the export holds no catalogue" >&2; exit 1; }
grep -q '"BP1"' "$clone/catalogue.json" || { echo "readme-test: catalogue.json holds no catalogue" >&2; exit 1; }
if [[ ${README_TEST_BACKENDS:-0} == 1 ]]; then
    [[ $(grep -c '^applied [0-9]* migrations' "$work/out.txt") == 2 ]] ||
        { cat "$work/out.txt" >&2; echo "readme-test: the PostgreSQL and MySQL notes did not migrate" >&2; exit 1; }
fi
echo "readme-test: README.md followed in a fresh clone; ${#expect[@]} promises checked"
