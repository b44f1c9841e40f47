# Shared by the haagent PostgreSQL scripts (POSIX sh). Sourced, never run.
#
# Every script takes the path of ONE settings file as its first argument. The file is sourced
# as shell (NAME=value lines), so it must be owned by root (or the user running the script) and
# not writable by group or others; it is refused otherwise. The settings (all required unless a default is shown):
#   PG_BIN          server binaries, e.g. /usr/lib/postgresql/15/bin
#   PGDATA          this node's data directory
#   PG_OS_USER      the OS user owning PGDATA (default postgres)
#   PG_PORT         the server's TCP port, the same on both nodes (default 5432)
#   PG_SOCKET_DIR   this cluster's own unix socket directory (never the shared default)
#   PG_LISTEN       listen_addresses (default '*': the VIP is served once it is added)
#   PG_NODE_NAME    this node's name: cluster_name and application_name, [a-z0-9_]
#   PG_PEER_HOST    the other node's address (replication, pg_rewind, the rejoin wait)
#   PG_REPL_USER    the replication role (default repl)
#   PG_PASSFILE     a libpq password file (mode 0600, owned by PG_OS_USER) with the passwords of
#                   postgres, PG_REPL_USER and PG_APP_USER for the peer (lines host:port:*:user:pw)
#   PG_APP_DB       the application database; the haagent schema lives there (default app)
#   PG_APP_USER     the application role (default app)
#   PG_REPL_NET     CIDR the peers connect from (replication and superuser over TCP)
#   PG_CLIENT_NET   CIDR the application connects from (default 0.0.0.0/0)
#   PG_STATE_DIR    this node's state outside PGDATA (last streaming time, last peer seen)
#   PG_LOG_FILE     the server's log file (pg_ctl -l)
#   PG_ASYNC_AFTER_MS   the primary drops to async after the standby stopped streaming this long (default 8000)
#   PG_FRESH_WINDOW_MS  a standby may be promoted only if it streamed within this long before the
#                       master went silent (default 3000; must stay well below PG_ASYNC_AFTER_MS)
#   PG_REJOIN_WAIT_S    how long a demoted node waits for the peer to become primary (default 30)

die() { echo "$SCRIPT: $*" >&2; exit 1; }

load_settings() {
  [ $# -ge 1 ] && [ -n "$1" ] || { echo "usage: $SCRIPT SETTINGS-FILE   ($USAGE)" >&2; exit 2; }
  [ -f "$1" ] || die "settings file $1 does not exist"
  case "$(stat -c '%A' "$1")" in
    ?????w????|????????w?) die "settings file $1 is writable by group or others: refusing to source it" ;;
  esac
  owner=$(stat -c '%u' "$1")
  [ "$owner" = 0 ] || [ "$owner" = "$(id -u)" ] || die "settings file $1 is owned by uid $owner, neither root nor this user: refusing to source it"
  case "$1" in */*) settings=$1 ;; *) settings=./$1 ;; esac
  # shellcheck disable=SC1090
  . "$settings"
  : "${PG_OS_USER:=postgres}" "${PG_PORT:=5432}" "${PG_LISTEN:=*}" "${PG_REPL_USER:=repl}"
  : "${PG_APP_DB:=app}" "${PG_APP_USER:=app}" "${PG_CLIENT_NET:=0.0.0.0/0}"
  : "${PG_ASYNC_AFTER_MS:=8000}" "${PG_FRESH_WINDOW_MS:=3000}" "${PG_REJOIN_WAIT_S:=30}"
  for v in PG_BIN PGDATA PG_SOCKET_DIR PG_NODE_NAME PG_PEER_HOST PG_PASSFILE PG_REPL_NET PG_STATE_DIR PG_LOG_FILE; do
    eval "val=\${$v:-}"
    [ -n "$val" ] || die "$v is not set in $1"
  done
  case "$PG_NODE_NAME" in *[!a-z0-9_]*) die "PG_NODE_NAME must be [a-z0-9_], got '$PG_NODE_NAME'" ;; esac
  [ -x "$PG_BIN/pg_ctl" ] || die "PG_BIN=$PG_BIN has no pg_ctl"
  export PGDATA PGPASSFILE="$PG_PASSFILE"
}

# Runs a command as PG_OS_USER (directly when already that user).
as_pg() {
  if [ "$(id -un)" = "$PG_OS_USER" ]; then "$@"; else runuser -u "$PG_OS_USER" -- env PGPASSFILE="$PG_PASSFILE" "$@"; fi
}

# q SQL [DB]: one query on the local server through its own socket (-h always: unix sockets
# ignore network namespaces), unaligned tuples only, stops at the first error.
q() {
  as_pg "$PG_BIN/psql" -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d "${2:-postgres}" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# peer_q SQL: one query on the peer over TCP as postgres (password from PG_PASSFILE), 2 s connect bound.
peer_q() {
  as_pg "$PG_BIN/psql" "host=$PG_PEER_HOST port=$PG_PORT user=postgres dbname=postgres connect_timeout=2" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# running: the postmaster of PGDATA is alive (a killed one left as a zombie does not count).
running() {
  pid=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null) || return 1
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  st=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$st" != Z ] && [ "$st" != X ]
}

# in_recovery: prints t (standby), f (primary); fails when the server does not answer.
in_recovery() { q 'SELECT pg_is_in_recovery()'; }

now_ms() { date +%s%3N; }

# Node-specific settings are passed on the command line, never kept in PGDATA: pg_basebackup and
# pg_rewind copy the peer's configuration files (including postgresql.auto.conf) over ours.
pg_start() {
  mkdir -p "$PG_SOCKET_DIR" "$PG_STATE_DIR"
  chown "$PG_OS_USER" "$PG_SOCKET_DIR" 2>/dev/null || true
  chmod 0700 "$PG_SOCKET_DIR"
  conninfo="host=$PG_PEER_HOST port=$PG_PORT user=$PG_REPL_USER passfile=$PG_PASSFILE application_name=$PG_NODE_NAME connect_timeout=2"
  as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA" -l "$PG_LOG_FILE" -w -t 60 -o "-c port=$PG_PORT -c listen_addresses='$PG_LISTEN' -c unix_socket_directories='$PG_SOCKET_DIR' -c cluster_name='$PG_NODE_NAME' -c primary_conninfo='$conninfo'" >/dev/null
}

# finish_crash_recovery: a server that died as a primary ("in production") and is then started
# with standby.signal cannot reach a consistent state by itself when its WAL diverged from the
# new primary's, so it would never accept connections. Single-user mode replays its own WAL and
# shuts down cleanly, accepting no connection meanwhile (what pg_rewind does too).
finish_crash_recovery() {
  case "$(as_pg "$PG_BIN/pg_controldata" -D "$PGDATA" | sed -n 's/^Database cluster state: *//p')" in
    'in production')
      rm -f "$PGDATA/standby.signal"
      as_pg "$PG_BIN/postgres" --single -D "$PGDATA" -c unix_socket_directories="$PG_SOCKET_DIR" -c listen_addresses='' postgres </dev/null >/dev/null 2>&1 \
        || die "crash recovery in single-user mode failed"
      ;;
  esac
}

# pg_stop MODE: stops the server if it runs (fast falls back to immediate after 20 s).
pg_stop() {
  running || return 0
  as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m "$1" -w -t 20 >/dev/null 2>&1 \
    || as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m immediate -w -t 20 >/dev/null
}

# Records the replication mode in the database (haagent.sync_state), committed locally (never
# waits for a standby), so a standby that received the row knows what the primary promised.
record_mode() {
  q "SET synchronous_commit = local; UPDATE haagent.sync_state SET mode = '$1', since = now(), node = '$PG_NODE_NAME'" "$PG_APP_DB" >/dev/null
}

# with_mode_lock CMD...: the check and the promote hook may run at the same time; switches of
# the replication mode (and the decision to switch) are serialized on a lock file.
with_mode_lock() {
  mkdir -p "$PG_STATE_DIR"
  ( flock -w 10 9 || die "could not lock $PG_STATE_DIR/mode.lock"; "$@" ) 9>"$PG_STATE_DIR/mode.lock"
}

# set_async: first the 'async' row (a standby that has it must not count itself fresh), then
# drop the sync requirement; waiting commits complete at once.
set_async() {
  record_mode async
  q "ALTER SYSTEM SET synchronous_standby_names = ''" >/dev/null
  q 'SELECT pg_reload_conf()' >/dev/null
}

# set_sync: require the standby again, then the 'sync' row: everything before it in the WAL is on
# a standby that has the row, and every commit after it is acknowledged only once the standby has it.
set_sync() {
  q "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (*)'" >/dev/null
  q 'SELECT pg_reload_conf()' >/dev/null
  record_mode sync
}
