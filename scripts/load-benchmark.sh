#!/usr/bin/env bash
# Builds netcache in release mode and runs the server load benchmark beside nginx
# (scripts/load_benchmark.py): wrk from a second process, on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh nginx wrk
swift build -c release --static-swift-stdlib --scratch-path .build-release --product netcache
exec python3 scripts/load_benchmark.py --netcache .build-release/release/netcache "$@"
