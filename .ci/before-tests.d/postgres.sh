# PostgreSQL for the register's tests (issue 8).
#
# Sourced by .ci/run before pytest. Installs Debian's postgresql where it is missing,
# starts a throw-away cluster listening on 127.0.0.1 only (a free port), creates a user
# and a database, and exports
#     TRIAGE_TEST_DATABASE_URL=postgresql+psycopg://triage_test:...@127.0.0.1:PORT/triage_test
# which the register tests pick up. When sourced, the cluster is stopped when the calling
# shell exits (an EXIT trap, chained to any existing one). Idempotent: run again, it
# reuses a cluster that is still running (and leaves that one running).
#
# By hand:   . .ci/before-tests.d/postgres.sh            (start and export, stop on exit)
#            bash .ci/before-tests.d/postgres.sh          (start; prints the export line)
#            bash .ci/before-tests.d/postgres.sh stop     (stop the cluster)

_triage_pg_main() {
  local base="${TRIAGE_PG_DIR:-${TMPDIR:-/tmp}/triage-ci-postgres}"
  local data="$base/data" bin="" port="" run_as=()
  local user="triage_test" db="triage_test" password="triage_test_pw"

  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ "${1:-}" = "stop" ]; then
    if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then _triage_pg_stop; fi
    return 0
  fi
  if { [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; } && [ "$(id -u)" != 0 ]; then
    echo "postgres.sh: PostgreSQL's server is not installed: apt-get install postgresql (as root; scripts/test does it)" >&2
    return 1
  fi
  if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
    echo "postgres.sh: installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi

  # root cannot run postgres: run the server tools as the postgres user the package creates
  if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi
  mkdir -p "$base"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$base"; fi

  if [ -f "$data/PG_VERSION" ] && "${run_as[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    port="$(cat "$base/port")"
    echo "postgres.sh: reusing the cluster running in $data on 127.0.0.1:$port (left running)"
  else
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      (cd / && LC_ALL=C "${run_as[@]}" "$bin/initdb" -D "$data" -U postgres --no-locale -E UTF8 \
         --auth-local=trust --auth-host=scram-sha-256 >"$base/initdb.log" 2>&1) \
        || { cat "$base/initdb.log" >&2; return 1; }
    fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    # listen on loopback only; the superuser's socket lives in the data folder
    "${run_as[@]}" sh -c "printf '%s\n' \"listen_addresses = '127.0.0.1'\" \"port = $port\" \
      \"unix_socket_directories = '$data'\" \"fsync = off\" > '$data/postgresql.auto.conf'"
    echo "$port" >"$base/port"
    (cd / && "${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 start >/dev/null) \
      || { tail -n 20 "$base/server.log" >&2; return 1; }
    _TRIAGE_PG_STARTED=1
    echo "postgres.sh: started PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $data on 127.0.0.1:$port"
  fi

  local psql=("${run_as[@]}" "$bin/psql" -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$(cd / && "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
    (cd / && "${psql[@]}" -c "CREATE ROLE $user LOGIN PASSWORD '$password'")
  fi
  if [ "$(cd / && "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    (cd / && "${psql[@]}" -c "CREATE DATABASE $db OWNER $user ENCODING 'UTF8' TEMPLATE template0")
  fi
  export TRIAGE_TEST_DATABASE_URL="postgresql+psycopg://$user:$password@127.0.0.1:$port/$db"
  printf '#!/bin/sh\n%s "%s/pg_ctl" -D "%s" -m fast stop\n' "${run_as[*]}" "$bin" "$data" >"$base/stop.sh"
  chmod +x "$base/stop.sh"
  echo "postgres.sh: TRIAGE_TEST_DATABASE_URL set; stop hook: $base/stop.sh"
}

_triage_pg_stop() {
  local base="${TRIAGE_PG_DIR:-${TMPDIR:-/tmp}/triage-ci-postgres}"
  [ -x "$base/stop.sh" ] && (cd / && "$base/stop.sh" >/dev/null 2>&1) || true
}

_triage_pg_trap() {  # chain our stop to an EXIT trap that may already be set
  eval "set -- $(trap -p EXIT)"
  _TRIAGE_PG_PREVIOUS_TRAP="${3:-}"
  trap _triage_pg_on_exit EXIT
}

_triage_pg_on_exit() {  # stop the cluster, run the previous EXIT trap, keep the exit status
  local status=$?
  _triage_pg_stop
  if [ -n "${_TRIAGE_PG_PREVIOUS_TRAP:-}" ]; then
    set +e
    (exit "$status")
    eval "$_TRIAGE_PG_PREVIOUS_TRAP"
  fi
  exit "$status"
}

if (return 0 2>/dev/null); then  # sourced (by .ci/run): export into the caller, stop on its exit
  _TRIAGE_PG_STARTED=0
  _triage_pg_main "$@"
  if [ "$_TRIAGE_PG_STARTED" = 1 ]; then  # a cluster found running was started by someone else: leave it
    case "$(trap -p EXIT)" in *_triage_pg_on_exit*) ;; *) _triage_pg_trap ;; esac
  fi
else  # executed: start (or stop) and print what to export
  set -euo pipefail
  _triage_pg_main "$@"
  if [ "${1:-}" != "stop" ]; then echo "export TRIAGE_TEST_DATABASE_URL='$TRIAGE_TEST_DATABASE_URL'"; fi
fi
