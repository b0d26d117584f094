#!/usr/bin/env bash
# Runs Zoufang on this machine: makes sure PostgreSQL and RabbitMQ are up,
# builds, starts every service binary that exists with its log under
# .run/logs/, waits until each is ready, prints where to look and a
# development token, and stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zoufang}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export RUST_LOG="${RUST_LOG:-info}"

# name:grpc-port (admin port = grpc port + 1000; the gateway speaks HTTP).
SERVICES="registry:50051 issues:50052 supervision:50053 notify:50054 petition:50055 gateway:8080"

ensure_postgres
ensure_rabbitmq
log "building (release)"
cargo build --release --locked --bins

mkdir -p .run/logs
pids=()
stop_all() {
  trap - INT TERM EXIT
  log "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  log "stopped"
}
trap stop_all INT TERM EXIT

table=()
for entry in $SERVICES; do
  name=${entry%%:*}; port=${entry##*:}
  bin="target/release/$name"
  [ -x "$bin" ] || continue
  admin=$((port + 1000))
  if [ "$name" = gateway ]; then
    HTTP_ADDR="127.0.0.1:$port" ADMIN_ADDR="127.0.0.1:$admin" "$bin" >".run/logs/$name.log" 2>&1 &
  else
    GRPC_ADDR="127.0.0.1:$port" ADMIN_ADDR="127.0.0.1:$admin" "$bin" >".run/logs/$name.log" 2>&1 &
  fi
  pid=$!
  pids+=("$pid")
  ready=""
  for _ in $(seq 1 60); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited on start; the end of its log:"
      tail -n 30 ".run/logs/$name.log" >&2
      exit 1
    fi
    if curl -fsS "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.5
  done
  [ -n "$ready" ] || { log "$name is not ready after 30 s"; tail -n 30 ".run/logs/$name.log" >&2; exit 1; }
  table+=("$(printf '%-12s 127.0.0.1:%-6s http://127.0.0.1:%s/metrics   .run/logs/%s.log' "$name" "$port" "$admin" "$name")")
done

token=$(ZF_JWT_SECRET="${ZF_JWT_SECRET:-zoufang-dev-secret}" target/release/zfctl token \
  --sub dev-admin --roles county_admin,township_admin --scope "" 2>/dev/null)

echo
echo "Zoufang is running:"
printf '%-12s %-16s %-38s %s\n' service address metrics log
for row in "${table[@]}"; do echo "$row"; done
echo
echo "A development token (county_admin, whole country), valid 12 hours:"
echo "  $token"
echo "Try:  grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" 127.0.0.1:50051 list"
echo "RabbitMQ management (when the plugin is enabled): http://127.0.0.1:15672 (guest/guest)"
echo "Ctrl-C stops everything."
wait -n "${pids[@]}" || true
log "a service exited; see .run/logs/"
