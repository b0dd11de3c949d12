#!/usr/bin/env bash
# Checks deploy/spcm.service with `systemd-analyze verify`, pointing ExecStart at a built
# binary (verify requires the program to exist). Usage: scripts/verify-unit.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-target/debug/spcm}")
[[ -x $binary ]] || { echo "no spcm binary at $binary; build it first" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#/usr/local/bin/spcm#$binary#" deploy/spcm.service >"$dir/spcm.service"
# verify prints problems and exits non-zero on them; warnings about the host are not ours.
output=$(systemd-analyze verify "$dir/spcm.service" 2>&1) || { echo "$output" >&2; exit 1; }
if [[ -n $output ]]; then
    echo "$output" >&2
    exit 1
fi
echo "deploy/spcm.service: systemd-analyze verify passed"
