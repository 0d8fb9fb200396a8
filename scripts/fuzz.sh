#!/usr/bin/env bash
# Builds the libFuzzer targets (Sources/NetcacheFuzz) and runs each for SECONDS (default
# 60) from its seed corpus in fixtures/fuzz/<target>. An input that crashes or hangs is
# saved there as crash-* or timeout-*: the test suite then replays it for ever after.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash scripts/install-deps.sh
swift build -c release --product netcache-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
for target in shadir-entry json ini criterion binary-entry relocation-entry; do
  corpus=.build-fuzz/corpus/$target
  mkdir -p "$corpus"
  echo "== $target, $seconds s"
  NETCACHE_FUZZ_TARGET=$target .build-fuzz/release/netcache-fuzz \
    -max_total_time="$seconds" -timeout=5 -print_final_stats=1 \
    -artifact_prefix="fixtures/fuzz/$target/" "$corpus" "fixtures/fuzz/$target" 2>&1 |
    grep -E "^(Done|stat::number_of_executed_units|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)" || true
done
