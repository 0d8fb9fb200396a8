#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs it all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/interop-venv.sh
swift build --build-tests
swift test
