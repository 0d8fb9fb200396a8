#!/usr/bin/env bash
# Builds netcache in release mode and runs the server load benchmark beside nginx
# (scripts/load_benchmark.py): wrk from a second process, on loopback only. The scale-out
# rows run on PostgreSQL and OpenStack Swift's S3 API, started here and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh nginx wrk
swift build -c release --static-swift-stdlib --scratch-path .build-release --product netcache
engines=$(mktemp -d /tmp/netcache-bench-engines-XXXXXX)
# PostgreSQL runs as its own user, which must reach its directory.
chmod 755 "$engines"
trap 'bash scripts/engines/s3.sh stop "$engines/s3"; bash scripts/engines/postgresql.sh stop "$engines/pg"; rm -rf "$engines"' EXIT
NETCACHE_BENCH_POSTGRES_URL=$(bash scripts/engines/postgresql.sh start "$engines/pg")
NETCACHE_BENCH_S3_ENDPOINT=$(bash scripts/engines/s3.sh start "$engines/s3")
export NETCACHE_BENCH_POSTGRES_URL NETCACHE_BENCH_S3_ENDPOINT
python3 scripts/load_benchmark.py --netcache .build-release/release/netcache "$@"
