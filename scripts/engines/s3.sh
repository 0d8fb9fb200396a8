#!/usr/bin/env bash
# A throwaway S3 store on 127.0.0.1 for the tests: OpenStack Swift from Debian with its s3api
# and tempauth middlewares (see /work/shared/docs/s3-test-store.md), its files under DIR.
#   s3.sh start DIR        prints http://127.0.0.1:PORT (also in DIR/endpoint; DIR/env has
#                          S3_ENDPOINT and the AWS_* credentials; DIR/pids the processes)
#   s3.sh mb DIR BUCKET    creates BUCKET (path-style), fine if it exists already
#   s3.sh stop DIR
# Credentials: access key test:tester, secret testing, region us-east-1. Needs root.
set -euo pipefail

die() { echo "s3.sh: $*" >&2; exit 1; }
usage="usage: s3.sh start DIR | stop DIR | mb DIR BUCKET"
[ $# -ge 2 ] || die "$usage"
command=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# The swift modules live in Debian's dist-packages, which a pyenv python3 cannot import.
PYTHON=/usr/bin/python3
PACKAGES=(swift swift-proxy swift-object swift-container swift-account python3-swift memcached)
SERVERS=(account container object proxy)

# This container's init reaps killed processes late, and a PID can be reused: a zombie, or a
# process whose command line does not name DIR, is not ours.
alive() {
  local stat cmdline
  stat=$(cat "/proc/$1/stat" 2>/dev/null) && cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] && [[ $cmdline == *"$DIR/"* ]]
}

stop() {
  local pids=() pid
  [ -s "$DIR/pids" ] || return 0
  for pid in $(cat "$DIR/pids"); do alive "$pid" && pids+=("$pid"); done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for signal in TERM KILL; do
    [ $signal = TERM ] || kill -KILL "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 100); do
      local left=()
      for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
      [ ${#left[@]} -gt 0 ] || return 0
      pids=("${left[@]}")
      sleep 0.1
    done
  done
  die "still running after SIGKILL: ${pids[*]}"
}

fail_start() {
  local name
  for name in memcached "${SERVERS[@]}"; do echo "--- $DIR/log/$name.log" >&2; tail -n 15 "$DIR/log/$name.log" >&2 2>/dev/null; done
  stop || true
  die "$1"
}

case $command in
start)
  [ $# -eq 2 ] || die "$usage"
  mkdir -p "$2"
  DIR=$(cd "$2" && pwd -P)
  if [ -s "$DIR/pids" ]; then
    running=0 total=0
    for pid in $(cat "$DIR/pids"); do total=$((total + 1)); if alive "$pid"; then running=$((running + 1)); fi; done
    [ $running -ne $total ] || { cat "$DIR/endpoint"; exit 0; }
    [ $running -eq 0 ] || die "only $running of $total processes of $DIR still run; stop it first"
  fi
  # Swift keeps object metadata in user xattrs, which tmpfs lacks before Linux 6.6.
  [ "$(df --output=fstype "$DIR" | tail -n 1)" != tmpfs ] || die "$DIR is on tmpfs; Swift needs user xattrs (use ext4 or xfs)"

  missing=()
  for package in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    # Without systemd, invoke-rc.d would run the init scripts, starting memcached and every
    # Swift daemon on Debian's default configs; policy-rc.d exiting 101 forbids that.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    bash "$ROOT/scripts/install-deps.sh" "${PACKAGES[@]}" >&2
  fi
  # Its /usr/bin/swift would shadow the Swift compiler on PATH.
  [ "$(dpkg-query -W -f='${Status}' python3-swiftclient 2>/dev/null)" != "install ok installed" ] \
    || echo "s3.sh: warning: python3-swiftclient is installed; its /usr/bin/swift shadows the Swift compiler" >&2

  # Ports from the kernel, all held at once so they differ, instead of fixed ones that
  # another run or service may hold; the race until the servers bind them is accepted.
  read -r proxy_port account_port container_port object_port memcached_port < <("$PYTHON" -c '
import socket
sockets = [socket.socket() for _ in range(5)]
for s in sockets: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))') || die "cannot pick free ports"
  declare -A port=([proxy]=$proxy_port [account]=$account_port [container]=$container_port [object]=$object_port)

  mkdir -p "$DIR/etc" "$DIR/srv/d1" "$DIR/log"
  # Swift reads this path whatever swift_dir says. Constant hashes: changing them would
  # orphan the data of every DIR.
  swift_conf='[swift-hash]
swift_hash_path_suffix = ci-s3-suffix
swift_hash_path_prefix = ci-s3-prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]'
  if [ "$(cat /etc/swift/swift.conf 2>/dev/null)" != "$swift_conf" ]; then
    mkdir -p /etc/swift
    echo "$swift_conf" >/etc/swift/swift.conf.$$ && mv /etc/swift/swift.conf.$$ /etc/swift/swift.conf
  fi

  # workers = 0: one process per server (the default is one per CPU, 20 for Debian's proxy).
  common="[DEFAULT]
bind_ip = 127.0.0.1
workers = 0
user = $(id -un)
swift_dir = $DIR/etc
devices = $DIR/srv
mount_check = false
log_level = ${S3_LOG_LEVEL:-WARNING}"
  for name in account container object; do
    {
      echo "$common"
      echo "bind_port = ${port[$name]}"
      printf '\n[pipeline:main]\npipeline = %s-server\n\n[app:%s-server]\nuse = egg:swift#%s\n' $name $name $name
      # Listings are updated inline (no updater daemon runs): give a slow update on two
      # busy cores time to land before the PUT returns.
      [ $name != object ] || echo "container_update_timeout = 10"
    } >"$DIR/etc/$name-server.conf"
  done
  # tempauth needs the memcache middleware ("Memcache required" otherwise).
  cat >"$DIR/etc/proxy-server.conf" <<EOF
$common
bind_port = ${port[proxy]}

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
allow_multipart_uploads = true
s3_acl = false

# S3 access key "test:tester" (tempauth looks users up as account:user), secret "testing".
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
reseller_prefix = AUTH_

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached_port
EOF
  for filter in catch_errors gatekeeper healthcheck proxy-logging:proxy_logging listing_formats bulk copy slo dlo; do
    printf '\n[filter:%s]\nuse = egg:swift#%s\n' "${filter%%:*}" "${filter##*:}"
  done >>"$DIR/etc/proxy-server.conf"

  # The RingBuilder API directly: swift-ring-builder takes about 1 s a call and leaves backups.
  "$PYTHON" - "$DIR/etc" "${port[object]}" "${port[container]}" "${port[account]}" <<'PY' || die "cannot build the rings"
import sys
from swift.common.ring import RingBuilder
for name, port in zip(("object", "container", "account"), sys.argv[2:]):
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1})
    builder.rebalance()
    builder.get_ring().save(f"{sys.argv[1]}/{name}.ring.gz")
PY

  : >"$DIR/pids"
  # UDP off and loopback only. -P is never written without -d; it puts DIR in the command
  # line, which is how stop recognises the process.
  memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 16 -u "$(id -un)" -P "$DIR/memcached.pid" \
    </dev/null >"$DIR/log/memcached.log" 2>&1 &
  echo $! >>"$DIR/pids"
  # -v logs to stderr: without it Swift logs to syslog, and none runs here.
  for name in "${SERVERS[@]}"; do
    "/usr/bin/swift-$name-server" "$DIR/etc/$name-server.conf" -v </dev/null >"$DIR/log/$name.log" 2>&1 &
    echo $! >>"$DIR/pids"
  done

  endpoint="http://127.0.0.1:${port[proxy]}"
  ready=false
  for _ in $(seq 300); do
    for pid in $(cat "$DIR/pids"); do alive "$pid" || fail_start "a server exited during start-up (PID $pid)"; done
    ready=true
    for p in "$memcached_port" "${port[@]}"; do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { ready=false; break; }
    done
    if $ready && [ "$(curl -s -m 2 "$endpoint/healthcheck")" = OK ]; then break; fi
    ready=false
    sleep 0.1
  done
  $ready || fail_start "not ready after 30 s"

  echo "$endpoint" >"$DIR/endpoint"
  printf 'S3_ENDPOINT=%s\nAWS_ACCESS_KEY_ID=test:tester\nAWS_SECRET_ACCESS_KEY=testing\nAWS_DEFAULT_REGION=us-east-1\n' "$endpoint" >"$DIR/env"
  echo "$endpoint"
  ;;
mb)
  [ $# -eq 3 ] || die "$usage"
  DIR=$(cd "$2" 2>/dev/null && pwd -P) && [ -s "$DIR/endpoint" ] || die "no store started in $2"
  endpoint=$(cat "$DIR/endpoint")
  # The access key holds a colon, so it goes in the URL, not --user (which splits at the
  # first colon); s3api insists on x-amz-content-sha256, which curl does not send.
  answer=$(curl -sS -m 30 -X PUT -H 'Content-Length: 0' -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    --aws-sigv4 "aws:amz:us-east-1:s3" -w '\n%{http_code}' "${endpoint/#http:\/\//http://test%3Atester:testing@}/$3") \
    || die "cannot reach $endpoint"
  status=${answer##*$'\n'}
  [ "$status" = 200 ] || [[ $answer == *BucketAlreadyOwnedByYou* ]] \
    || die "creating bucket $3 failed: HTTP $status $(tr -d '\n' <<<"${answer%$'\n'*}")"
  ;;
stop)
  [ $# -eq 2 ] || die "$usage"
  [ -d "$2" ] || exit 0
  DIR=$(cd "$2" && pwd -P)
  stop
  ;;
*) die "$usage" ;;
esac
