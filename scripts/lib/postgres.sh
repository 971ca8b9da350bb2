# Sourced by scripts/test and Benchmarks/run: starts a throwaway PostgreSQL on a free loopback
# port as the `postgres` user (installing it first when missing and running as root), exports
# THROWAWAY_POSTGRES_URL, and stops and removes it when the calling script exits. The server
# also speaks TLS under a certificate for `localhost` that a throwaway CA signed; the CA's file
# is exported as THROWAWAY_POSTGRES_CA (clients still choose: Ward's default is sslmode=disable).

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_throwaway_postgres() {
  local initdb bin port
  initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$initdb" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "PostgreSQL is not installed; run as root to install it, or set WARD_TEST_POSTGRES_URL" >&2
      return 1
    fi
    echo "installing PostgreSQL" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  fi
  bin=$(dirname "$initdb")
  THROWAWAY_POSTGRES_DIR=$(mktemp -d /tmp/ward-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$THROWAWAY_POSTGRES_DIR"
  make_throwaway_certificates "$THROWAWAY_POSTGRES_DIR/tls"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_postgres "$bin/initdb" -D "$THROWAWAY_POSTGRES_DIR/data" -A trust -U postgres -E UTF8 >"$THROWAWAY_POSTGRES_DIR/initdb.log"
  # fsync stays as the caller asks: off for tests (the server is thrown away), on for benchmarks.
  as_postgres "$bin/pg_ctl" -D "$THROWAWAY_POSTGRES_DIR/data" -l "$THROWAWAY_POSTGRES_DIR/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$THROWAWAY_POSTGRES_DIR -c max_connections=400 -c ssl=on -c ssl_cert_file=$THROWAWAY_POSTGRES_DIR/tls/server.crt -c ssl_key_file=$THROWAWAY_POSTGRES_DIR/tls/server.key ${THROWAWAY_POSTGRES_OPTIONS:-}" start >/dev/null
  THROWAWAY_POSTGRES_BIN=$bin
  # Remembered for a replica, which must allow at least as many connections as its primary.
  THROWAWAY_POSTGRES_SERVER_OPTIONS=${THROWAWAY_POSTGRES_OPTIONS:-}
  THROWAWAY_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  THROWAWAY_POSTGRES_CA=$THROWAWAY_POSTGRES_DIR/tls/ca.crt
  export THROWAWAY_POSTGRES_URL THROWAWAY_POSTGRES_CA
  echo "throwaway PostgreSQL on 127.0.0.1:$port" >&2
}

# A PgBouncer (Debian's) in transaction mode in front of the throwaway server, on another
# loopback port: every database name is passed through to the server, clients are trusted as the
# server trusts them. Exports THROWAWAY_PGBOUNCER_URL (the server's URL with the bouncer's port).
start_throwaway_pgbouncer() {
  local port dir=$THROWAWAY_POSTGRES_DIR/pgbouncer
  command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || {
    echo "installing PgBouncer" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  }
  # Debian's package starts a bouncer of its own as a service; this one is ours alone.
  mkdir -p "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  local server_port=${THROWAWAY_POSTGRES_URL##*:}; server_port=${server_port%%/*}
  printf '"postgres" ""\n' >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$server_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
max_db_connections = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits,statement_timeout,client_connection_check_interval,synchronous_commit
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
  as_postgres "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break; sleep 0.1; done
  THROWAWAY_PGBOUNCER_URL=${THROWAWAY_POSTGRES_URL/:$server_port\//:$port/}
  export THROWAWAY_PGBOUNCER_URL
  echo "throwaway PgBouncer (transaction mode) on 127.0.0.1:$port" >&2
}

# A streaming replica of the throwaway server (`pg_basebackup -R`: a hot standby following it over
# replication), on another loopback port, under the same options and certificate. Exports
# THROWAWAY_REPLICA_URL and THROWAWAY_REPLICA_CTL, a script taking `stop` or `start` (tests stop
# the replica and start it again).
start_throwaway_replica() {
  local port dir=$THROWAWAY_POSTGRES_DIR/replica
  # In memory when there is room: the replica writes again all the primary writes, and on two
  # cores that second stream of disk writes stalled the tests beside it.
  if [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')" -gt 4194304 ] 2>/dev/null; then
    dir=$(mktemp -d /dev/shm/ward-replica.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  fi
  THROWAWAY_REPLICA_DIR=$dir
  local server_port=${THROWAWAY_POSTGRES_URL##*:}; server_port=${server_port%%/*}
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  # A replication slot: the primary keeps the WAL the replica has not received while it is
  # stopped (the suite writes fast enough to recycle it otherwise, and it could never catch up).
  as_postgres "$THROWAWAY_POSTGRES_BIN/pg_basebackup" -h 127.0.0.1 -p "$server_port" -U postgres -D "$dir" -R -X stream -c fast -C -S ward_test_replica
  cat >"$THROWAWAY_POSTGRES_DIR/replica-ctl" <<CTL
#!/bin/sh
# stop | start the throwaway replica
set -e
if [ "\$(id -u)" = 0 ]; then run="runuser -u postgres --"; else run=""; fi
case "\$1" in
  stop) \$run "$THROWAWAY_POSTGRES_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null ;;
  start) \$run "$THROWAWAY_POSTGRES_BIN/pg_ctl" -D "$dir" -l "$THROWAWAY_POSTGRES_DIR/replica.log" -w -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$THROWAWAY_POSTGRES_DIR -c max_connections=400 -c ssl=on -c ssl_cert_file=$THROWAWAY_POSTGRES_DIR/tls/server.crt -c ssl_key_file=$THROWAWAY_POSTGRES_DIR/tls/server.key $THROWAWAY_POSTGRES_SERVER_OPTIONS" start >/dev/null ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
  chmod 755 "$THROWAWAY_POSTGRES_DIR/replica-ctl"
  "$THROWAWAY_POSTGRES_DIR/replica-ctl" start || { tail -n 5 "$THROWAWAY_POSTGRES_DIR/replica.log" >&2; return 1; }
  THROWAWAY_REPLICA_URL="postgres://postgres@127.0.0.1:$port/postgres"
  THROWAWAY_REPLICA_CTL=$THROWAWAY_POSTGRES_DIR/replica-ctl
  export THROWAWAY_REPLICA_URL THROWAWAY_REPLICA_CTL
  echo "throwaway streaming replica on 127.0.0.1:$port" >&2
}

# A second, independent PostgreSQL cluster (initdb of its own) on another loopback port, for the
# tests of tenants placed on several shards; removed with the first. Exports THROWAWAY_SHARD_URL.
start_throwaway_shard() {
  local port dir=$THROWAWAY_POSTGRES_DIR/shard
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_postgres "$THROWAWAY_POSTGRES_BIN/initdb" -D "$dir" -A trust -U postgres -E UTF8 >"$THROWAWAY_POSTGRES_DIR/shard-initdb.log"
  as_postgres "$THROWAWAY_POSTGRES_BIN/pg_ctl" -D "$dir" -l "$THROWAWAY_POSTGRES_DIR/shard.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$THROWAWAY_POSTGRES_DIR -c max_connections=200 -c ssl=on -c ssl_cert_file=$THROWAWAY_POSTGRES_DIR/tls/server.crt -c ssl_key_file=$THROWAWAY_POSTGRES_DIR/tls/server.key $THROWAWAY_POSTGRES_SERVER_OPTIONS" start >/dev/null
  THROWAWAY_SHARD_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export THROWAWAY_SHARD_URL
  echo "throwaway second cluster (a shard) on 127.0.0.1:$port" >&2
}

# A CA and a server certificate it signs, for the name `localhost` only (not 127.0.0.1: a client
# verifying the host name must refuse the address).
make_throwaway_certificates() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 -subj "/CN=Ward throwaway CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  chmod 600 "$dir/server.key" "$dir/ca.key"
  chmod 644 "$dir/ca.crt"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
  return 0
}

stop_throwaway_postgres() {
  [ -n "${THROWAWAY_POSTGRES_DIR:-}" ] || return 0
  [ -f "$THROWAWAY_POSTGRES_DIR/pgbouncer/pgbouncer.pid" ] && kill "$(cat "$THROWAWAY_POSTGRES_DIR/pgbouncer/pgbouncer.pid")" 2>/dev/null
  [ -d "$THROWAWAY_POSTGRES_DIR/shard" ] && as_postgres "$THROWAWAY_POSTGRES_BIN/pg_ctl" -D "$THROWAWAY_POSTGRES_DIR/shard" -m immediate stop >/dev/null 2>&1
  [ -n "${THROWAWAY_REPLICA_DIR:-}" ] && [ -d "$THROWAWAY_REPLICA_DIR" ] && {
    as_postgres "$THROWAWAY_POSTGRES_BIN/pg_ctl" -D "$THROWAWAY_REPLICA_DIR" -m immediate stop >/dev/null 2>&1
    rm -rf "$THROWAWAY_REPLICA_DIR"
  }
  as_postgres "$THROWAWAY_POSTGRES_BIN/pg_ctl" -D "$THROWAWAY_POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$THROWAWAY_POSTGRES_DIR"
}
