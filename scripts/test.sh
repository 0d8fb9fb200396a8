#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs it all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/interop-venv.sh
swift build --build-tests
# The suite is XCTest only: without Swift Testing's empty run, the last summary is XCTest's.
set +e
swift test --disable-swift-testing 2>&1 | tee .build/test-output.log
status=${PIPESTATUS[0]}
set -e
summary=$(grep -A1 "^Test Suite 'All tests'" .build/test-output.log | grep -oE "Executed [0-9]+ tests?, with [0-9]+ failures?" | tail -1 || true)
if [ -n "$summary" ]; then
  executed=$(echo "$summary" | awk '{print $2}')
  failed=$(echo "$summary" | awk '{print $5}')
  echo "$((executed - failed)) passed, $failed failed"
fi
exit "$status"
