#!/usr/bin/env bash
# Builds netcache in release mode and runs the server load benchmark beside nginx
# (scripts/load_benchmark.py): wrk from a second process, on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
missing=()
for package in nginx wrk; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
swift build -c release --static-swift-stdlib --scratch-path .build-release --product netcache
exec python3 scripts/load_benchmark.py --netcache .build-release/release/netcache "$@"
