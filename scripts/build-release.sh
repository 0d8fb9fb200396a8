#!/usr/bin/env bash
# Builds a static-stdlib release of netcache and packages it twice, into OUTPUT (default
# .build-release/dist):
#   netcache-VERSION-linux-ARCH.tar.gz  the binary, the manual pages, bash/zsh/fish
#                                       completions, a Makefile (make install PREFIX=...)
#                                       and DEPENDENCIES, the Debian packages it needs;
#   netcache_VERSION_ARCH.deb           the same for apt-get install ./netcache_*.deb, with
#                                       a systemd unit (netcache.service, not enabled).
# usage: build-release.sh [--binary PATH] [--output DIR]   (--binary: package that one)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="" output=".build-release/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "build-release.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
if [ -z "$binary" ]; then
  bash scripts/install-deps.sh
  swift build -c release --static-swift-stdlib --scratch-path .build-release --product netcache
  binary=.build-release/release/netcache
fi
version=$(sh scripts/version.sh)
arch=$(dpkg --print-architecture)

# The Debian packages of the libraries the binary links, by the files they hold.
depends=$(readelf -d "$binary" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | while read -r library; do
  path=$(ldconfig -p | awk -v l="$library" '$1 == l { print $NF; exit }')
  # dpkg knows a file by the path its package ships, /lib or /usr/lib alike.
  [ -z "$path" ] || { dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || true; } | cut -d: -f1 | head -n 1
done | sort -u | paste -sd, - | sed 's/,/, /g')
[ -n "$depends" ] || { echo "build-release.sh: cannot tell which packages the binary needs" >&2; exit 1; }

mkdir -p "$output"
output=$(cd "$output" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tree="$stage/netcache-$version"
mkdir -p "$tree/bin" "$tree/share/man/man1" "$tree/share/man/man5" "$tree/share/man/man8" \
  "$tree/share/bash-completion/completions" "$tree/share/zsh/site-functions" "$tree/share/fish/vendor_completions.d"
install -m 755 "$binary" "$tree/bin/netcache"
cp man/netcache.1 "$tree/share/man/man1/"
cp man/netcache.cfg.5 "$tree/share/man/man5/"
cp man/netcache-serve.8 "$tree/share/man/man8/"
"$binary" --generate-completion-script bash >"$tree/share/bash-completion/completions/netcache"
"$binary" --generate-completion-script zsh >"$tree/share/zsh/site-functions/_netcache"
"$binary" --generate-completion-script fish >"$tree/share/fish/vendor_completions.d/netcache.fish"
cp scripts/release/Makefile "$tree/"
echo "$depends" >"$tree/DEPENDENCIES"
tar -C "$stage" -czf "$output/netcache-$version-linux-$arch.tar.gz" "netcache-$version"

deb="$stage/deb"
make -s -C "$tree" install DESTDIR="$deb" PREFIX=/usr
install -D -m 644 scripts/release/netcache.service "$deb/lib/systemd/system/netcache.service"
install -D -m 644 scripts/release/netcache-trust-timestamp.service "$deb/lib/systemd/system/netcache-trust-timestamp.service"
install -D -m 644 scripts/release/netcache-trust-timestamp.timer "$deb/lib/systemd/system/netcache-trust-timestamp.timer"
install -D -m 644 scripts/release/default "$deb/etc/default/netcache"
install -D -m 755 scripts/release/postinst "$deb/DEBIAN/postinst"
install -D -m 755 scripts/release/postrm "$deb/DEBIAN/postrm"
echo /etc/default/netcache >"$deb/DEBIAN/conffiles"
# What apt reports the package takes once installed, in KiB.
installed_size=$(du -sk --exclude=DEBIAN "$deb" | cut -f1)
cat >"$deb/DEBIAN/control" <<CONTROL
Package: netcache
Version: $version
Architecture: $arch
Installed-Size: $installed_size
Maintainer: netcache developers <netcache@localhost>
Depends: adduser, $depends
Section: net
Priority: optional
Description: SlapOS network cache: shacache and shadir server, client and tools
 One command that serves shacache and shadir, uploads to and downloads from any
 such server, and publishes and installs SlapOS software releases through the
 binary cache. Wire-compatible with slapos.libnetworkcache.
CONTROL
# gzip: every dpkg reads it, and it is quick.
dpkg-deb -Zgzip --root-owner-group --build "$deb" "$output/netcache_${version}_$arch.deb" >/dev/null
echo "$output/netcache-$version-linux-$arch.tar.gz"
echo "$output/netcache_${version}_$arch.deb"
