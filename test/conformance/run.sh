#!/usr/bin/env bash
# The connectrpc conformance suite, server mode, against Flowgate's transport (test/conformance/README.md).
# Installs the pinned runner once into .flowgate/tools (Go, from the module proxy), regenerates the
# conformance protos' TypeScript, runs every case config.yaml selects with the reference clients, and prints
# a summary per server configuration. Exits non-zero when a case fails, or a known-failing one passes.
# Extra arguments go to the runner (e.g. --run 'Basic/**' --trace).
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=v1.0.7
TOOLS="$PWD/.flowgate/tools/connectconformance-$VERSION"
RUNNER="$TOOLS/connectconformance"
HERE=test/conformance
# The whole suite takes about a minute on two cores; a hang must not hold CI for its whole budget.
TIMEOUT_S=${FLOWGATE_CONFORMANCE_TIMEOUT_S:-900}

if [ ! -x "$RUNNER" ]; then
  echo "installing connectconformance $VERSION into $TOOLS"
  GOBIN="$TOOLS" go install "connectrpc.com/conformance/cmd/connectconformance@$VERSION"
fi
if [ ! -x node_modules/.bin/buf ] || [ ! -x node_modules/.bin/protoc-gen-es ]; then
  echo "node_modules/.bin has no buf or protoc-gen-es: run 'npm install' first" >&2
  exit 1
fi
# The generated code is small and deterministic: regenerating every time means the server never runs stale.
(cd "$HERE" && ../../node_modules/.bin/buf generate)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
timeout --kill-after=10 "$TIMEOUT_S" "$RUNNER" --mode server --verbose \
  --conf "$HERE/config.yaml" \
  --known-failing "@$HERE/known-failing.txt" \
  --skip "@$HERE/hanging.txt" \
  "$@" \
  -- node --import tsx "$HERE/server.ts" </dev/null 2>&1 | tee "$log" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "the conformance run did not finish within ${TIMEOUT_S}s" >&2
fi
node --import tsx "$HERE/summary.ts" "$log"
exit "$status"
