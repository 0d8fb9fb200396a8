#!/usr/bin/env bash
# Installs the Debian packages netcache builds and runs with, and any named as arguments
# (idempotent, needs root or sudo).
set -euo pipefail

packages=(libarchive-dev libcurl4-openssl-dev libssl-dev libzstd-dev zlib1g-dev libsqlite3-dev libelf-dev zstd openssl curl python3-venv "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Recommends are not needed here and would pull in much more (GTK and keystone clients for swift).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
