#!/usr/bin/env bash
# Builds netcache in release mode and runs the side-by-side benchmark (scripts/benchmark.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/interop-venv.sh
swift build -c release --static-swift-stdlib --scratch-path .build-release --product netcache
exec .venv/bin/python scripts/benchmark.py --netcache .build-release/release/netcache "$@"
