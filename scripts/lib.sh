# Shared shell helpers for Zoufang's scripts: logging and making sure the
# local PostgreSQL and RabbitMQ are up (they are on this kind of machine;
# these start them when they are not).
# shellcheck shell=bash

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"; }

ensure_postgres() {
  need pg_isready "Debian package postgresql-client"
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    log "PostgreSQL is up"
    return
  fi
  need pg_ctlcluster "Debian package postgresql"
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && { log "PostgreSQL is up"; return; }
    sleep 1
  done
  die "PostgreSQL did not come up within 60 s"
}

ensure_rabbitmq() {
  need rabbitmqctl "Debian package rabbitmq-server"
  if timeout 20 rabbitmqctl -q status >/dev/null 2>&1; then
    # The node may run with the app stopped (rabbitmqctl stop_app).
    if ! timeout 20 rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1; then
      log "starting the RabbitMQ application"
      rabbitmqctl -q start_app
    fi
    log "RabbitMQ is up"
    return
  fi
  log "starting RabbitMQ"
  rabbitmq-server -detached
  timeout 120 rabbitmqctl -q await_startup || die "RabbitMQ did not come up within 120 s"
  log "RabbitMQ is up"
}
