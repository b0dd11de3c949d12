#!/usr/bin/env bash
# Lints the OpenAPI document that spcm serves at /api-docs/openapi.json, as
# `spcm openapi` prints it, with Redocly CLI (the `recommended` rules, redocly.yaml) and
# Spectral (`spectral:oas`, .spectral.yaml). Either reporting an error or a warning fails.
#
#   scripts/lint-openapi.sh [SPCM_BINARY]     # default: target/debug/spcm (build it first)
#
# Needs Node.js with npx; the linters' versions are pinned below, and npx fetches them once.
set -euo pipefail

REDOCLY_VERSION=2.77.0
SPECTRAL_VERSION=6.16.3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SPCM="${1:-target/debug/spcm}"
[[ -x "$SPCM" ]] || { echo "no $SPCM: build it first (cargo build)" >&2; exit 2; }
command -v npx >/dev/null || { echo "npx not found: install Node.js (and npm)" >&2; exit 2; }
# Redocly CLI 2 runs on Node.js 20.19 or later.
node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
         process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' ||
    { echo "Node.js $(node --version) is too old for Redocly CLI $REDOCLY_VERSION: 20.19 or later is needed" >&2; exit 2; }

# The path that .redocly.lint-ignore.yaml names.
DOCUMENT=target/openapi/openapi.json
mkdir -p "$(dirname "$DOCUMENT")"
"$SPCM" openapi >"$DOCUMENT"

say() { printf '==> %s\n' "$*" >&2; }
failed=0

say "Redocly CLI $REDOCLY_VERSION (recommended)"
report=$(mktemp)
stderr=$(mktemp)
trap 'rm -f "$report" "$stderr"' EXIT
# JSON output gives the totals, warnings included (the exit status counts errors only).
npx --yes "@redocly/cli@$REDOCLY_VERSION" lint --config redocly.yaml --format json --max-problems 1000 \
    "$DOCUMENT" >"$report" 2>"$stderr" || true
node - "$report" "$stderr" <<'JS' || failed=1
const fs = require("fs");
let report;
try {
  report = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
} catch (err) {
  console.error(fs.readFileSync(process.argv[3], "utf8"));
  console.error(`Redocly CLI gave no report: ${err.message}`);
  process.exit(1);
}
for (const p of report.problems) {
  const where = p.location.map((l) => l.pointer).join(", ");
  console.error(`${p.severity} ${p.ruleId}: ${p.message} (${where})`);
}
const { errors, warnings, ignored } = report.totals;
console.error(`${errors} errors, ${warnings} warnings (${ignored} ignored, see .redocly.lint-ignore.yaml)`);
process.exit(errors + warnings === 0 ? 0 : 1);
JS

say "Spectral $SPECTRAL_VERSION (spectral:oas)"
npx --yes "@stoplight/spectral-cli@$SPECTRAL_VERSION" lint --ruleset .spectral.yaml --fail-severity warn \
    "$DOCUMENT" || failed=1

if ((failed)); then
    echo "the OpenAPI document has lint problems (above)" >&2
    exit 1
fi
say "the OpenAPI document is clean for both linters"
