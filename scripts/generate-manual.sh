#!/usr/bin/env bash
# Regenerates man/netcache.1 from the commands' own descriptions (scripts/generate-manual.py);
# man/netcache.cfg.5 and man/netcache-serve.8 are written by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product netcache
python3 scripts/generate-manual.py .build/debug/netcache "$(date -d "$(git log -1 --format=%cs)" '+%B %-d, %Y')" > man/netcache.1
