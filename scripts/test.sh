#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs it all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh nginx mandoc fiu-utils iproute2
bash scripts/interop-venv.sh
# zlib, libffi and CPython built from source for RealSoftwareRelocationTests (about 10
# minutes on a fresh machine, then cached in .build/real-software).
bash scripts/real-software.sh build >/dev/null

# The real engines of the scale-out tests, on loopback, stopped by process id on exit.
engines=$(mktemp -d /tmp/netcache-engines-XXXXXX)
# PostgreSQL runs as its own user, which must reach its directory.
chmod 755 "$engines"
trap 'bash scripts/engines/s3.sh stop "$engines/s3"; bash scripts/engines/postgresql.sh stop "$engines/pg"; rm -rf "$engines"' EXIT
NETCACHE_TEST_POSTGRES_URL=$(bash scripts/engines/postgresql.sh start "$engines/pg")
NETCACHE_TEST_S3_ENDPOINT=$(bash scripts/engines/s3.sh start "$engines/s3")
export NETCACHE_TEST_POSTGRES_URL NETCACHE_TEST_S3_ENDPOINT

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
