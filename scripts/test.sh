#!/usr/bin/env bash
# The whole suite: lint, typecheck, unit, lab integration, end-to-end. Installs the Debian packages it
# needs when run as root; under CI=true nothing is skipped for a missing dependency. Ends with one line:
# "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
RESULTS=test-results/summary
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.json

# Debian packages the suite needs (the lab's devices, the VM device, the browser).
read -r -a PACKAGES < <(grep -v '^#' scripts/debian-packages.txt | tr '\n' ' ')

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null || {
      echo "test: apt-get could not install: ${missing[*]}" >&2
      exit 1
    }
  else
    echo "test: missing Debian packages: ${missing[*]}" >&2
    echo "test: run as root (it installs them), or: sudo apt-get install ${missing[*]}" >&2
    [ "${CI:-}" = true ] && exit 1
    echo "test: lab integration tests will be skipped" >&2
  fi
fi

[ -d node_modules ] || npm ci

passed=0 failed=0 skipped=0
stage() { echo; echo "=== $1 ==="; }
check() { # a single pass/fail check (lint, typecheck, build)
  local name=$1
  shift
  stage "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "test: $name FAILED"; fi
}
vitest_counts() { # add the counts from a vitest JSON report; a missing report is a failure
  local file=$1
  if [ ! -s "$file" ]; then failed=$((failed + 1)); return; fi
  read -r p f s < <(node -e 'const r=require(process.argv[1]);let f=r.numFailedTests;if(!r.success&&f===0)f=Math.max(1,r.numFailedTestSuites);console.log(r.numPassedTests,f,r.numPendingTests+r.numTodoTests)' "$PWD/$file")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

check lint npm run --silent lint
check typecheck npm run --silent typecheck
check build npm run --silent build

stage "unit (vitest: core, CLI, renderer)"
npx vitest run --project unit --project renderer --reporter=default --reporter=json \
  --outputFile.json="$RESULTS/unit.json" || true
vitest_counts "$RESULTS/unit.json"

stage "lab integration (vitest against simulated devices)"
npx vitest run --project integration --reporter=default --reporter=json \
  --outputFile.json="$RESULTS/integration.json" || true
vitest_counts "$RESULTS/integration.json"

stage "end-to-end (Playwright: Debian Chromium; Electron where a binary exists)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$RESULTS/e2e.json" npx playwright test --reporter=list,json || true
if [ -s "$RESULTS/e2e.json" ]; then
  read -r p f s < <(node -e 'const s=require(process.argv[1]).stats;console.log(s.expected+s.flaky,s.unexpected,s.skipped)' "$PWD/$RESULTS/e2e.json")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
else
  failed=$((failed + 1))
fi

# Nothing the lab made may survive the suite.
leftover=$(ip netns list 2>/dev/null | grep -E '^pw[0-9a-f]{4}-' || true)
if [ -n "$leftover" ]; then
  echo "test: lab namespaces left behind: $leftover" >&2
  failed=$((failed + 1))
fi

echo
echo "suite took $(($(date +%s) - START)) s"
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
