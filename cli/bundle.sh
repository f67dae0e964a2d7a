#!/bin/sh
# Bundles `jw` (cli.ts and every module it imports except grpc-js) into
# build/jw.js, which bin/jw runs: one file loads ~35 ms faster than the ~150
# modules it replaces (bench/RESULTS.md, `jw start`). grpc-js stays an
# ordinary npm import: bundling it as well gained nothing. bin/jw calls this
# when a source is newer than the bundle; `deno task build` always does.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/build/jw.js"
mkdir -p "$repo/build"
tmp="$out.$$.tmp"
trap 'rm -f "$tmp"' EXIT
"$repo/node_modules/.bin/deno" bundle --quiet --platform deno \
  --external @grpc/grpc-js --config "$repo/deno.json" --output "$tmp" \
  "$repo/cli.ts"
mv -f "$tmp" "$out"
