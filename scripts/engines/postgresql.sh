#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server on 127.0.0.1 for the tests, its files all under DIR.
#   postgresql.sh start DIR   prints postgresql://netcache:netcache@127.0.0.1:PORT/netcache
#                             (also in DIR/url; postmaster PID in DIR/pid); databases
#                             netcache and netcache_other, both owned by role netcache
#   postgresql.sh stop DIR
set -euo pipefail

die() { echo "postgresql.sh: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: postgresql.sh start|stop DIR"
command=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=/usr/lib/postgresql/15/bin

# A PID file can outlive its process, and this container's init reaps killed processes late:
# a zombie, or a PID reused by something else, is not our server.
alive() {
  local stat cmdline
  stat=$(cat "/proc/$1/stat" 2>/dev/null) && cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] && [[ $cmdline == *"$DIR/data"* ]]
}

case $command in
start)
  mkdir -p "$2"
  DIR=$(cd "$2" && pwd -P)
  if [ -s "$DIR/pid" ] && alive "$(cat "$DIR/pid")"; then cat "$DIR/url"; exit 0; fi

  if [ "$(dpkg-query -W -f='${Status}' postgresql-15 2>/dev/null)" != "install ok installed" ]; then
    # Without systemd, invoke-rc.d would run the init script and start the default cluster
    # on 5432; policy-rc.d exiting 101 forbids that.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    bash "$ROOT/scripts/install-deps.sh" postgresql-15 >&2
    # Should a default cluster have started anyway, it is not ours and would hold 5432.
    if [[ $(pg_lsclusters -h 2>/dev/null) == *online* ]]; then pg_ctlcluster 15 main stop || true; fi
  fi

  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$DIR"
    as_owner=(runuser -u postgres --)
    # setpriv execs (runuser stays as a parent), so no extra process outlives this script.
    exec_as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups)
  else
    as_owner=() exec_as_owner=()
  fi
  "${as_owner[@]}" test -w "$DIR" || die "$DIR is not writable by the server's user (postgres)"
  # The socket path must fit in sun_path (107 bytes).
  [ ${#DIR} -le 90 ] || die "DIR path too long for a unix socket: $DIR"

  # No syncs (here and fsync=off below): test data need not survive a crash, and a sync
  # can stall for seconds while a build writes to the same disk.
  if [ ! -s "$DIR/data/PG_VERSION" ]; then
    "${as_owner[@]}" "$BIN/initdb" --no-sync -D "$DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 \
      || { tail -n 20 "$DIR/initdb.log" >&2; die "initdb failed (log: $DIR/initdb.log)"; }
  fi

  # The kernel hands out a free port; the small race until postgres binds it is accepted.
  port=$("$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${exec_as_owner[@]}" "$BIN/postgres" -D "$DIR/data" -p "$port" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$DIR" -c fsync=off -c synchronous_commit=off \
    </dev/null >>"$DIR/log" 2>&1 &
  server=$!
  for _ in $(seq 300); do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    kill -0 "$server" 2>/dev/null || { tail -n 20 "$DIR/log" >&2; die "postgres exited during start-up (log: $DIR/log)"; }
    sleep 0.1
  done
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" \
    || { kill "$server" 2>/dev/null; tail -n 20 "$DIR/log" >&2; die "postgres not accepting connections after 30 s (log: $DIR/log)"; }
  # The postmaster's own record of its PID, whatever wrapped its start.
  head -n 1 "$DIR/data/postmaster.pid" >"$DIR/pid"

  # Idempotent, so a restart on existing data, or after a failed start, works too.
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres >/dev/null <<'SQL' || die "cannot create role and databases (log: $DIR/log)"
SELECT 'CREATE ROLE netcache LOGIN CREATEDB PASSWORD ''netcache''' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'netcache') \gexec
SELECT format('CREATE DATABASE %I OWNER netcache', name) FROM unnest(ARRAY['netcache', 'netcache_other']) AS name
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \gexec
SQL
  url="postgresql://netcache:netcache@127.0.0.1:$port/netcache"
  echo "$url" >"$DIR/url"
  echo "$url"
  ;;
stop)
  [ -d "$2" ] || exit 0
  DIR=$(cd "$2" && pwd -P)
  [ -s "$DIR/pid" ] || exit 0
  pid=$(cat "$DIR/pid")
  alive "$pid" || exit 0
  # SIGINT is PostgreSQL's fast shutdown; SIGTERM ("smart") would wait for every client
  # still connected to leave.
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 100); do alive "$pid" || exit 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$pid" || exit 0; sleep 0.1; done
  die "postgres (PID $pid) still running after SIGKILL"
  ;;
*) die "usage: postgresql.sh start|stop DIR" ;;
esac
