#!/bin/sh
# Creates .venv/ at the package root with the real, unmodified Python network-cache
# client (slapos.libnetworkcache 0.30) and slapos.core 1.26.1's binary-cache code, for
# the interoperability tests (Tests/NetcacheTests/InteropTests.swift, Tests/interop/).
#
# Idempotent: once the install is complete and importable, a marker file records the
# versions and later runs do nothing. Needs python3 (>= 3.8) and access to PyPI.
# slapos.core is installed without its (heavy) dependencies: slapos.grid.networkcache
# only needs slapos.libnetworkcache and distro at import time.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON="$VENV/bin/python"
MARKER="$VENV/.netcache-interop"
REQUIREMENTS="slapos.libnetworkcache==0.30 slapos.core==1.26.1 distro"
# What importing slapos.grid.SlapObject needs (slapgrid's own Software.install drives the
# drop-in test), without the rest of slapos.core's dependency tree.
# A real FTP server for the origin tests (upload --url ftp://...).
TEST_REQUIREMENTS="pyftpdlib==2.2.0"
SLAPGRID_REQUIREMENTS="six supervisor psutil zope.interface uritemplate jsonschema attrs referencing rpds-py typing_extensions jsonschema-specifications netaddr lxml xml_marshaller requests urllib3 idna certifi charset_normalizer"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# Both distributions must share one importable `slapos` package; check that the modules
# the tests use come from the expected versions.
check() {
    "$PYTHON" - <<'PY'
import importlib.metadata as md
import slapos.libnetworkcache, slapos.crypto, slapos.signature
import slapos.grid.networkcache, slapos.grid.distribution, distro, pyftpdlib
assert md.version("slapos.libnetworkcache") == "0.30", md.version("slapos.libnetworkcache")
assert md.version("slapos.core") == "1.26.1", md.version("slapos.core")
assert slapos.grid.networkcache.LIBNETWORKCACHE_ENABLED
PY
}

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$REQUIREMENTS $SLAPGRID_REQUIREMENTS $TEST_REQUIREMENTS" ] && check 2>/dev/null; then
    exit 0
fi

if ! "$PYTHON" -c '' 2>/dev/null; then
    python3 -m venv --clear "$VENV"
fi
rm -f "$MARKER"
# Building the slapos sdists needs setuptools; pip fetches it for the build itself.
# pkg_resources (setuptools, in the venv) serves the namespace declaration in
# slapos/__init__.py when that file is installed; keep a setuptools that still has it.
"$PYTHON" -m pip install --quiet "setuptools<81" wheel
# --no-build-isolation: build with the setuptools above, which still supports
# namespace_packages (one shared `slapos` directory, a *-nspkg.pth per distribution).
"$PYTHON" -m pip install --quiet --no-deps --no-build-isolation $REQUIREMENTS
"$PYTHON" -m pip install --quiet --no-deps $SLAPGRID_REQUIREMENTS
"$PYTHON" -m pip install --quiet --no-deps --no-build-isolation $TEST_REQUIREMENTS
check
printf '%s\n' "$REQUIREMENTS $SLAPGRID_REQUIREMENTS $TEST_REQUIREMENTS" > "$MARKER"
echo "interop venv ready: $PYTHON"
