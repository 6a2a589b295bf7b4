# Real services for the test suites, sourced by .ci/run (and usable by hand: `source
# .ci/services.sh && services_start`): a throw-away PostgreSQL cluster and an S3 server (s3s-fs),
# both on loopback, in a temporary folder. services_start exports WOPID_TEST_PG_URL,
# WOPID_TEST_S3_URL and the AWS credentials the S3 URL needs; services_stop stops both by PID.
#
# PostgreSQL comes from Debian (apt-get install postgresql); s3s-fs from crates.io, pinned. The
# last s3s-fs that builds on the project's Rust 1.95 is 0.14.1 (0.15 and later need 1.96).

S3S_FS_VERSION=0.14.1
PG_PORT=${WOPID_CI_PG_PORT:-55432}
S3_PORT=${WOPID_CI_S3_PORT:-59000}

services_install() {
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  S3S_FS=${S3S_FS:-$(command -v s3s-fs || true)}
  if [ -z "$S3S_FS" ] || ! "$S3S_FS" --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
    local t0=$SECONDS
    cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked --quiet
    echo "s3s-fs $S3S_FS_VERSION installed in $((SECONDS - t0)) s"
    S3S_FS=$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")
  fi
}

services_start() {
  services_install
  SERVICES_DIR=$(mktemp -d /tmp/wopid-ci-services.XXXXXX)
  chmod 755 "$SERVICES_DIR"
  local pgbin
  pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user (or to the
  # current user when that is not root).
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    mkdir -p "$SERVICES_DIR/pg"
    chown postgres "$SERVICES_DIR/pg"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$pgbin/initdb" -D "$SERVICES_DIR/pg/data" -U wopid --auth=trust -E UTF8 --no-sync >/dev/null
  "${as[@]}" "$pgbin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PG_PORT -k $SERVICES_DIR/pg -c fsync=off -c max_connections=400" start >/dev/null
  PG_PID=$(head -n 1 "$SERVICES_DIR/pg/data/postmaster.pid")
  export WOPID_TEST_PG_URL="postgres://wopid@127.0.0.1:$PG_PORT/postgres"
  export WOPID_CI_PG_CTL="${as[*]} $pgbin/pg_ctl -D $SERVICES_DIR/pg/data"

  mkdir -p "$SERVICES_DIR/s3/wopid-test"
  export AWS_ACCESS_KEY_ID=wopid-ci AWS_SECRET_ACCESS_KEY=wopid-ci-secret
  "$S3S_FS" --host 127.0.0.1 --port "$S3_PORT" --access-key "$AWS_ACCESS_KEY_ID" \
    --secret-key "$AWS_SECRET_ACCESS_KEY" "$SERVICES_DIR/s3" >"$SERVICES_DIR/s3.log" 2>&1 &
  S3_PID=$!
  export WOPID_TEST_S3_URL="s3://wopid-test?endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1"
  export WOPID_TEST_S3S_FS="$S3S_FS"
  # Bounded wait until the S3 server answers HTTP.
  local i
  for i in $(seq 1 100); do
    if python3 - "$S3_PORT" <<'EOF' 2>/dev/null; then break; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
EOF
    kill -0 "$S3_PID" 2>/dev/null || { cat "$SERVICES_DIR/s3.log" >&2; return 1; }
    sleep 0.1
  done
  echo "PostgreSQL (pid $PG_PID) on 127.0.0.1:$PG_PORT, s3s-fs (pid $S3_PID) on 127.0.0.1:$S3_PORT"
}

services_stop() {
  if [ -n "${S3_PID:-}" ]; then kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; fi
  # A test may have restarted PostgreSQL (new PID): pg_ctl reads the current one from the data
  # folder; the first PID is the fallback.
  if [ -n "${WOPID_CI_PG_CTL:-}" ]; then $WOPID_CI_PG_CTL -m fast -w -t 30 stop >/dev/null 2>&1 || true; fi
  if [ -n "${PG_PID:-}" ]; then kill -INT "$PG_PID" 2>/dev/null || true; fi
  if [ -n "${SERVICES_DIR:-}" ]; then
    rm -rf "$SERVICES_DIR"
  fi
}
