#!/usr/bin/env bash
# Regenerates man/netcache.1 from the commands' own --help texts.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package generate-manual --configuration debug --date "$(git log -1 --format=%cs)"
cp .build/plugins/GenerateManual/outputs/netcache/netcache.1 man/netcache.1
