#!/usr/bin/env bash
# Fetches axe-core, pinned, from the npm registry into target/axe-core/axe.min.js for the
# console's accessibility check (tests/console_browser.rs). Nothing of it is shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.10.2
out=target/axe-core
if [[ -f $out/axe.min.js && $(cat "$out/VERSION" 2>/dev/null) == "$version" ]]; then
    exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar -xzf "axe-core-$version.tgz")
cp "$work/package/axe.min.js" "$out/axe.min.js"
echo "$version" > "$out/VERSION"
echo "axe-core $version in $out/axe.min.js"
