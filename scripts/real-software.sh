#!/usr/bin/env bash
# Real upstream software, built the way a SlapOS release builds its components, for
# RealSoftwareRelocationTests: zlib, libffi and CPython from the upstream tarballs of
# Debian's source packages, each with its own build system and
# `--prefix=ROOT/MD5` under a long software_root, CPython linked against the zlib and
# libffi of the same prefix with an RPATH into it (`-Wl,-rpath,ROOT/MD5/lib`).
#
#   bash scripts/real-software.sh build [SOFTWARE_URL]
#       Builds the release of SOFTWARE_URL (by default the test fixture's) unless the cache
#       holds it, and prints the cache directory on stdout: `tree/` (what was installed under
#       ROOT/MD5), `root`, `md5`, `tests/` (the projects' test sources run by `check`),
#       `timings`. The cache is `.build/real-software/KEY/`; KEY hashes the recipe (the
#       function `build` below), the sources' SHA-256s, ROOT, MD5 and the compiler's
#       version, so it is rebuilt when any changes. Progress and build logs go to stderr
#       and `build.log`.
#   bash scripts/real-software.sh check CACHE PREFIX
#       Runs the projects' own test suites against the release installed at PREFIX (the
#       tree of CACHE, under any software_root): zlib's example and minigzip, libffi's call
#       and closure tests, compiled against PREFIX through its pkg-config files, CPython's
#       embedding through python3-config, and a subset of CPython's regression tests.
set -euo pipefail
cd "$(dirname "$0")/.."
repository=$PWD

# Fixed, since the build bakes it in: the tests put the tree back at ROOT/MD5 to publish it.
ROOT=/tmp/netcache-real-software-root-padded-to-be-much-longer-than-the-install-root
DEFAULT_SOFTWARE_URL=https://lab.example/software/erp5/software.cfg

# Source package, upstream tarball in it, its SHA-256, directory in the pool.
SOURCES=(
  "zlib zlib_1.2.13.dfsg.orig.tar.bz2 71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1 z/zlib"
  "libffi libffi_3.4.4.orig.tar.gz d66c56ad259a82cf2a9dfc408b32bf5da52371500b84745f7fb8b645712df676 libf/libffi"
  "python3.11 python3.11_3.11.2.orig.tar.gz 2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849 p/python3.11"
)

# CPython's regression tests run by `check`: those about where the interpreter and its
# files are (sysconfig, site, getpath, venv, distutils building a C extension from the
# installed headers and Makefile), the compiled modules (compileall, importlib,
# py_compile, zipimport) and the libraries of the prefix (zlib, ctypes through libffi).
# Each passes on the build before it moves.
PYTHON_TESTS=(
  test_sysconfig test_site test_getpath test_venv test_distutils test_ensurepip
  test_cmd_line test_cmd_line_script test_sys test_pkgutil test_runpy
  test_compileall test_importlib test_py_compile test_zipimport
  test_inspect test_traceback test_linecache test_pydoc test_lib2to3
  test_zlib test_gzip test_zipfile test_tarfile test_shutil test_ctypes test_json
)

CORES=2

log() { echo "real-software: $*" >&2; }

digest_of() { sha256sum | cut -c1-16; }

# Runs a build step with its output in build.log, printing the log's tail when it fails.
step() {
  local name=$1
  shift
  log "$name"
  if ! "$@" >>"$buildlog" 2>&1; then
    tail -n 60 "$buildlog" >&2
    log "$name failed; the whole log is in $buildlog"
    exit 1
  fi
}

# The upstream tarball of a Debian source package, where apt says it is (security updates
# included, with deb-src sources added when the machine has none), else in the main pool.
fetch_source() {
  local package=$1 file=$2 sha256=$3 pool=$4
  local target=$sources/$file
  if [ -f "$target" ] && echo "$sha256  $target" | sha256sum -c --quiet - 2>/dev/null; then
    return
  fi
  local uris=() uri
  while read -r uri; do
    uris+=("$uri")
  done < <(cd "$(mktemp -d)" && apt-get source --print-uris "$package" 2>/dev/null | awk -v f="$file" '$2 == f { gsub("\047", "", $1); print $1 }')
  uris+=("http://deb.debian.org/debian/pool/main/$pool/$file")
  for uri in "${uris[@]}"; do
    log "fetching $uri"
    if curl -fsSL --retry 3 -o "$target.part" "$uri" && echo "$sha256  $target.part" | sha256sum -c --quiet -; then
      mv "$target.part" "$target"
      return
    fi
  done
  rm -f "$target.part"
  log "cannot fetch $file (SHA-256 $sha256) from ${uris[*]}"
  exit 1
}

deb_src_configured() {
  grep -qsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
}

add_deb_src() {
  deb_src_configured && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $sudo tee /etc/apt/sources.list.d/netcache-deb-src.sources >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' | $sudo tee /etc/apt/sources.list.d/netcache-deb-src.list >/dev/null
  fi
  $sudo apt-get update -qq || log "apt-get update failed; the sources come from the main pool"
}

seconds_since() { echo $(($(date +%s) - $1)); }

build() {
  local software_url=${1:-$DEFAULT_SOFTWARE_URL}
  local md5 key
  md5=$(printf %s "$software_url" | md5sum | cut -c1-32)
  local prefix=$ROOT/$md5

  # Build tools and the system libraries CPython's other modules use (ssl for pip).
  bash scripts/install-deps.sh build-essential pkgconf curl xz-utils bzip2 \
    libbz2-dev liblzma-dev libncurses-dev libreadline-dev uuid-dev libsqlite3-dev libssl-dev

  key=$( (
    # The recipe (not the rest of this script, so that changing the checks keeps the build).
    declare -f build
    printf '%s\n' "${SOURCES[@]}" "$ROOT" "$md5"
    gcc --version | head -1
  ) | digest_of)
  local base=$repository/.build/real-software
  local cache=$base/$key
  mkdir -p "$base"
  exec 9>"$base/build.lock"
  flock 9
  if [ -f "$cache/complete" ]; then
    log "cached: $cache"
    echo "$cache"
    return
  fi

  rm -rf "$cache"
  mkdir -p "$cache/tests" "$base/sources"
  sources=$base/sources
  buildlog=$cache/build.log
  local work=$cache/work
  mkdir -p "$work"
  local started total_started=$(date +%s)

  started=$(date +%s)
  add_deb_src
  local entry
  for entry in "${SOURCES[@]}"; do
    # shellcheck disable=SC2086
    fetch_source $entry
  done
  echo "sources $(seconds_since "$started")" >>"$cache/timings"

  # A tree left under the long root by an interrupted build or test.
  rm -rf "$prefix"
  mkdir -p "$prefix"
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

  started=$(date +%s)
  tar -C "$work" -xjf "$sources/zlib_1.2.13.dfsg.orig.tar.bz2"
  (
    cd "$work"/zlib-*
    step "zlib: configure" ./configure --prefix="$prefix"
    step "zlib: make" make -j"$CORES"
    step "zlib: make test" make test
    step "zlib: make install" make install
    # Programs of the release using the library through an RPATH into the prefix, and the
    # sources of zlib's tests for `check`.
    mkdir -p "$prefix/bin"
    step "zlib: example, minigzip" sh -c "cc -O2 -I'$prefix/include' -o '$prefix/bin/zlib-example' test/example.c -L'$prefix/lib' -lz -Wl,-rpath,'$prefix/lib' \
      && cc -O2 -I'$prefix/include' -o '$prefix/bin/minigzip' test/minigzip.c -L'$prefix/lib' -lz -Wl,-rpath,'$prefix/lib'"
    mkdir -p "$cache/tests/zlib"
    cp test/example.c test/minigzip.c "$cache/tests/zlib/"
  )
  echo "zlib $(seconds_since "$started")" >>"$cache/timings"

  started=$(date +%s)
  tar -C "$work" -xzf "$sources/libffi_3.4.4.orig.tar.gz"
  (
    cd "$work"/libffi-*
    step "libffi: configure" ./configure --prefix="$prefix" --disable-static --disable-docs --disable-multi-os-directory
    step "libffi: make" make -j"$CORES"
    step "libffi: make install" make install
    # Its test suite's programs, which the DejaGnu harness compiles against the build tree;
    # `check` compiles them against an installed prefix.
    mkdir -p "$cache/tests/libffi"
    cp -r testsuite/libffi.call testsuite/libffi.closures "$cache/tests/libffi/"
    cp "$(find . -name fficonfig.h -not -path './testsuite/*' | head -1)" "$cache/tests/libffi/"
  )
  echo "libffi $(seconds_since "$started")" >>"$cache/timings"

  started=$(date +%s)
  tar -C "$work" -xzf "$sources/python3.11_3.11.2.orig.tar.gz"
  (
    cd "$work"/Python-*
    # No --enable-optimizations (PGO runs the whole test suite) and no LTO.
    step "python: configure" ./configure --prefix="$prefix" --enable-shared --with-system-ffi --with-ensurepip=install \
      CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib -Wl,-rpath,$prefix/lib"
    step "python: make" make -j"$CORES"
    step "python: make install" make install
  )
  echo "python $(seconds_since "$started")" >>"$cache/timings"

  # What the build must have made, or the tests would prove nothing.
  # (ldd's output is kept first: `grep -q` stopping early would fail the pipe.)
  local file library libraries
  for file in lib/python3.11/lib-dynload/zlib.cpython-311-x86_64-linux-gnu.so:libz.so.1 \
    lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so:libffi.so.8 bin/python3.11:libpython3.11.so.1.0; do
    library=${file#*:}
    file=$prefix/${file%:*}
    libraries=$(ldd "$file")
    grep -qF "$library => $prefix/lib/$library " <<<"$libraries" || { log "$file does not load $library from $prefix/lib: $libraries"; exit 1; }
  done

  rm -rf "$work"
  mv "$prefix" "$cache/tree"
  rmdir "$ROOT" 2>/dev/null || true
  echo "$ROOT" >"$cache/root"
  echo "$md5" >"$cache/md5"
  echo "total $(seconds_since "$total_started")" >>"$cache/timings"
  log "built in $(seconds_since "$total_started") s: $(tr '\n' ' ' <"$cache/timings")"
  touch "$cache/complete"
  echo "$cache"
}

# Collapses repeated slashes: a relocated tree may name its root padded with them.
normalized() { tr -s / <<<"$1"; }

check() {
  local cache=$1 prefix=$2
  local failures=0 started
  local scratch
  scratch=$(mktemp -d /tmp/netcache-real-software-check-XXXXXX)
  trap 'rm -rf "$scratch"' RETURN
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  # Nothing of the caller's Python may change where the interpreter looks or what it writes.
  local variable
  for variable in $(compgen -e | grep '^PYTHON'); do unset "$variable"; done
  unset VIRTUAL_ENV
  fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

  started=$(date +%s)
  echo "== zlib"
  local flags libdir
  flags=$(pkg-config --cflags --libs zlib)
  libdir=$(pkg-config --variable=libdir zlib)
  echo "pkg-config --cflags --libs zlib: $flags"
  [ "$(normalized "$libdir")" = "$(normalized "$prefix/lib")" ] || fail "zlib.pc's libdir is $libdir, not under $prefix"
  # zlib's `make test`: example, and minigzip compressing and expanding.
  (
    cd "$scratch"
    # shellcheck disable=SC2086
    cc -O2 -o example "$cache/tests/zlib/example.c" $flags -Wl,-rpath,"$libdir" &&
      cc -O2 -o minigzip "$cache/tests/zlib/minigzip.c" $flags -Wl,-rpath,"$libdir"
  ) || fail "zlib's tests do not compile against $prefix"
  local program
  for program in "$scratch/example" "$prefix/bin/zlib-example"; do
    (cd "$scratch" && "$program") || fail "$program"
    [ "$(normalized "$(ldd "$program" | awk '$1 == "libz.so.1" { print $3 }')")" = "$(normalized "$libdir/libz.so.1")" ] || fail "$program does not load $libdir/libz.so.1: $(ldd "$program")"
  done
  for program in "$scratch/minigzip" "$prefix/bin/minigzip"; do
    [ "$(echo hello world | "$program" | "$program" -d)" = "hello world" ] || fail "$program"
  done
  echo "zlib: $(seconds_since "$started") s"

  started=$(date +%s)
  echo "== libffi"
  flags=$(pkg-config --cflags --libs libffi)
  libdir=$(pkg-config --variable=libdir libffi)
  echo "pkg-config --cflags --libs libffi: $flags"
  [ "$(normalized "$libdir")" = "$(normalized "$prefix/lib")" ] || fail "libffi.pc's libdir is $libdir, not under $prefix"
  mkdir -p "$scratch/ffi"
  # Each test aborts on a wrong result.
  local results
  # shellcheck disable=SC2016
  # bpo-38748 needs libffi's internal headers.
  results=$(find "$cache/tests/libffi" -name '*.c' -not -name bpo-38748.c | sort | xargs -P "$CORES" -I{} sh -c '
    test=$1; flags=$2; libdir=$3; out=$4/$(basename "$(dirname "$test")")-$(basename "$test" .c)
    if ! cc -O0 -w -I"$(dirname "$test")" -I"$5" -o "$out" "$test" $flags -lm -Wl,-rpath,"$libdir" 2>"$out.log"; then echo "FAIL compile $test: $(head -3 "$out.log")"
    elif ! "$out" >"$out.log" 2>&1; then echo "FAIL run $test: $(tail -3 "$out.log")"
    else echo "PASS $test"; fi' _ {} "$flags" "$libdir" "$scratch/ffi" "$cache/tests/libffi")
  grep '^FAIL' <<<"$results" || true
  echo "libffi: $(grep -c '^PASS' <<<"$results") tests passed, $(grep -c '^FAIL' <<<"$results" || true) failed"
  grep -q '^FAIL' <<<"$results" && fail "libffi's tests"
  echo "libffi: $(seconds_since "$started") s"

  started=$(date +%s)
  echo "== python: embedding through python3-config"
  cat >"$scratch/embed.c" <<'EOF'
#include <Python.h>
int main(void) {
    Py_Initialize();
    int status = PyRun_SimpleString("import sys, zlib, ctypes; print(sys.prefix, zlib.ZLIB_RUNTIME_VERSION)");
    return Py_FinalizeEx() < 0 || status != 0;
}
EOF
  # shellcheck disable=SC2046
  if cc -o "$scratch/embed" "$scratch/embed.c" $("$prefix/bin/python3-config" --cflags --ldflags --embed) -Wl,-rpath,"$prefix/lib"; then
    local embedded
    embedded=$("$scratch/embed") || fail "the embedded interpreter"
    echo "embedded: $embedded"
    [ "$(normalized "${embedded% *}")" = "$(normalized "$prefix")" ] || fail "the embedded interpreter's prefix is ${embedded% *}"
  else
    fail "embedding does not compile with $prefix/bin/python3-config"
  fi

  echo "== python: ${PYTHON_TESTS[*]}"
  # Outside the tree, which may be read-only; -j spreads the tests over worker processes.
  (cd "$scratch" && "$prefix/bin/python3" -m test -j"$CORES" --timeout 600 "${PYTHON_TESTS[@]}") || fail "python -m test"
  echo "python: $(seconds_since "$started") s"

  if [ "$failures" -gt 0 ]; then
    echo "$failures failures"
    return 1
  fi
  echo "all passed"
}

case ${1:-} in
  build) shift; build "$@" ;;
  check) shift; check "$@" ;;
  *) echo "usage: $0 build [SOFTWARE_URL] | check CACHE PREFIX" >&2; exit 64 ;;
esac
