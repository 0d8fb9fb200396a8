#!/bin/sh
# netcache's version, from the git checkout it is built from: 0.COMMITS.HASH, the name of
# the release packages. With --swift DIR, writes DIR/BuildVersion.swift for
# `netcache --version` instead (SwiftPM runs this before each build, Plugins/BuildVersion),
# rewriting it only when it changes, so that an unchanged version compiles nothing again.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if count=$(git -C "$root" rev-list --count HEAD 2>/dev/null) && commit=$(git -C "$root" rev-parse HEAD 2>/dev/null); then
  version="0.$count.$(echo "$commit" | cut -c1-7)"
  git -C "$root" diff --quiet HEAD -- 2>/dev/null || commit="$commit, with uncommitted changes"
else
  version="0.0.unknown" commit="unknown: not built from a git checkout"
fi
if [ "${1:-}" != "--swift" ]; then
  echo "$version"
  exit 0
fi
mkdir -p "$2"
text="/// What \`netcache --version\` prints, written by scripts/version.sh at build time.
enum BuildVersion {
    static let version = \"$version\"
    static let commit = \"$commit\"
}"
[ "$(cat "$2/BuildVersion.swift" 2>/dev/null)" = "$text" ] || printf '%s\n' "$text" > "$2/BuildVersion.swift"
