#!/usr/bin/env bash
# Runs Zoufang on this machine, without containers:
#   1. makes sure the local PostgreSQL and RabbitMQ are up (starts them if not);
#   2. builds every binary (release);
#   3. starts each service binary that exists (registry, issues, supervision,
#      notify, petition, gateway), logging to .run/logs/<name>.log, and waits
#      until its /readyz answers;
#   4. with --demo, loads a demo county and a simulated campaign into the
#      running services (target/release/zfdemo (target/debug with --debug), seed 2026 or --seed N) and
#      keeps its totals;
#   5. prints what runs where, a development token and (with --demo) the
#      demo's totals and where its campaign summary is, then waits.
# Ctrl-C (or SIGTERM) stops every service and waits for them; if a service
# dies on start or later, the end of its log is printed and everything stops
# with a non-zero exit.
#
# Environment, passed through to the services (DESIGN.md §3): DATABASE_URL,
# AMQP_URL, ZF_JWT_PUBLIC_KEY, ZF_JWT_PRIVATE_KEY, ZF_PII_KEY, RUST_LOG,
# OTEL_EXPORTER_OTLP_ENDPOINT. Without AMQP_URL the stack uses the local
# broker's virtual host zoufang-dev (created if missing).
# This is a DEVELOPMENT runner: it sets ZF_DEV_MODE=1, so every key left
# unset is the PUBLISHED development key (the services, zfctl and zfdemo
# share them and warn loudly). Production sets real keys and no ZF_DEV_MODE
# (the services then refuse to start without them).
# READY_TIMEOUT (seconds per service, default 60) bounds the start-up wait.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

usage() {
  cat <<'USAGE'
Usage: scripts/run.sh [--demo [--seed N]] [--debug]

Builds and starts every Zoufang service on this machine; Ctrl-C stops them.
  --demo      after the services are ready, load the demo county (祁东县) and a
              simulated campaign through their APIs, and print its totals and
              the gateway URL of its campaign summary (the same seed again
              changes nothing)
  --seed N    the demo's seed (default 2026)
  --debug     build and run the debug binaries (faster to build, slower to run)
USAGE
}

demo=0
demo_seed=""
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) demo=1 ;;
    --debug) profile=debug ;;
    --seed)
      [ $# -ge 2 ] || die "--seed needs a number"
      demo_seed=$2
      shift
      ;;
    --seed=*) demo_seed=${1#--seed=} ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (scripts/run.sh --help)" ;;
  esac
  shift
done
if [ -n "$demo_seed" ]; then
  [ "$demo" -eq 1 ] || die "--seed goes with --demo"
  [[ "$demo_seed" =~ ^[0-9]{1,18}$ ]] || die "--seed must be a non-negative integer, got '$demo_seed'"
fi
demo_seed=${demo_seed:-2026}

need cargo "install the Rust toolchain (rustup)"
need curl "install Debian's curl"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zoufang}"
# The stack's own virtual host (zoufang-dev, created below): another stack
# on the same broker (the tests use zoufang-test) has queues of the same
# names, and would otherwise take this one's events.
if [ -z "${AMQP_URL:-}" ]; then
  zf_vhost=zoufang-dev
  export AMQP_URL="amqp://guest:guest@127.0.0.1:5672/$zf_vhost"
fi
export RUST_LOG="${RUST_LOG:-info}"
# glibc would keep every freed argon2 block of the gateway resident (README).
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}"
# The gateway creates the account `admin` with this password on its first
# start (an empty database); set your own, and change it after signing in.
export BOOTSTRAP_ADMIN_PASSWORD="${BOOTSTRAP_ADMIN_PASSWORD:-zoufang-admin-1}"
for var in ZF_JWT_PUBLIC_KEY ZF_JWT_PRIVATE_KEY ZF_PII_KEY OTEL_EXPORTER_OTLP_ENDPOINT; do
  if [ -n "${!var:-}" ]; then export "${var?}"; else unset "$var"; fi
done
# Development mode, said out loud: published keys stand in for unset ones.
export ZF_DEV_MODE=1
log "ZF_DEV_MODE=1: DEVELOPMENT MODE — unset keys are the PUBLISHED development keys; never use this for real data"
ready_timeout=${READY_TIMEOUT:-60}
# A service gets SHUTDOWN_GRACE_SECS (default 20) to finish in-flight work.
stop_timeout=$((${SHUTDOWN_GRACE_SECS:-20} + 10))

# name:port — the gRPC port (HTTP for the gateway); admin port = port + 1000.
SERVICES=(registry:50051 issues:50052 supervision:50053 notify:50054 petition:50055 gateway:8080)

names=()
pids=()

# True when something accepts TCP connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# shellcheck disable=SC2317 # stop_all and on_exit run from traps
stop_all() {
  [ "${#pids[@]}" -gt 0 ] || return 0
  local i pid t0=$SECONDS live=()
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then live+=("${names[$i]}"); fi
  done
  log "stopping ${live[*]:-nothing (all exited)}"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  while [ $((SECONDS - t0)) -lt "$stop_timeout" ]; do
    local alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" -eq 1 ] || break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop within $stop_timeout s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  log "stopped"
}

# shellcheck disable=SC2317
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log_tail() {
  log "the end of .run/logs/$1.log:"
  tail -n 40 ".run/logs/$1.log" >&2 || true
}

ensure_postgres
ensure_rabbitmq
[ -z "${zf_vhost:-}" ] || ensure_vhost "$zf_vhost"

build_flags=(--locked --bins)
[ "$profile" = release ] && build_flags+=(--release)
log "cargo build ${build_flags[*]}"
cargo build "${build_flags[@]}"

mkdir -p .run/logs
rows=()
for entry in "${SERVICES[@]}"; do
  name=${entry%%:*}
  port=${entry##*:}
  admin=$((port + 1000))
  bin=target/$profile/$name
  [ -x "$bin" ] || continue

  extra=()
  # The petition bridge also listens for signed webhooks from petition systems.
  [ "$name" = petition ] && extra=(8085)
  for p in "$port" "$admin" "${extra[@]}"; do
    if port_busy "$p"; then
      die "$name: port $p on 127.0.0.1 is already in use (another scripts/run.sh, or a service started by hand?)"
    fi
  done

  if [ "$name" = gateway ]; then
    listen=(HTTP_ADDR="127.0.0.1:$port")
    address="http://127.0.0.1:$port"
  else
    listen=(GRPC_ADDR="127.0.0.1:$port")
    address="127.0.0.1:$port"
  fi
  logfile=.run/logs/$name.log
  # Whether or not the terminal's Ctrl-C reaches a service directly, on_exit
  # sends it SIGTERM and waits for it.
  env "${listen[@]}" ADMIN_ADDR="127.0.0.1:$admin" "$bin" >"$logfile" 2>&1 &
  pid=$!
  names+=("$name")
  pids+=("$pid")

  t0=$SECONDS
  until curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$admin/readyz" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" && rc=0 || rc=$?
      log "$name exited on start (status $rc)"
      show_log_tail "$name"
      exit 1
    fi
    if [ $((SECONDS - t0)) -ge "$ready_timeout" ]; then
      log "$name is not ready after $ready_timeout s (http://127.0.0.1:$admin/readyz)"
      show_log_tail "$name"
      exit 1
    fi
    sleep 0.3
  done
  log "$name ready in $((SECONDS - t0)) s (pid $pid)"
  rows+=("$(printf '%-12s %-24s %-24s %s' "$name" "$address" "http://127.0.0.1:$admin" "$logfile")")
done

[ "${#pids[@]}" -gt 0 ] || die "no service binary in target/release (looked for: ${SERVICES[*]%%:*})"

token=""
if [ -x target/$profile/zfctl ]; then
  token_err=$(mktemp)
  if ! token=$(target/$profile/zfctl token --sub dev-admin --roles county_admin,township_admin --scope "" 2>"$token_err"); then
    log "zfctl could not mint a token: $(cat "$token_err")"
    token=""
  fi
  rm -f "$token_err"
else
  log "target/$profile/zfctl is missing: no development token"
fi

# The demo: the generator talks to the services just started, at their
# default addresses, with the same (development) signing key.
demo_out=""
if [ "$demo" -eq 1 ]; then
  [ -x target/$profile/zfdemo ] || die "target/$profile/zfdemo is missing (cargo build --release --bins builds it)"
  demo_out=.run/demo-seed-$demo_seed.txt
  log "loading the demo county and campaign (seed $demo_seed): target/$profile/zfdemo --seed $demo_seed"
  t0=$SECONDS
  if target/$profile/zfdemo --seed "$demo_seed" >"$demo_out"; then
    log "demo loaded in $((SECONDS - t0)) s"
  else
    rc=$?
    log "zfdemo failed (status $rc); the services keep running. Its output:"
    cat "$demo_out" >&2 || true
    demo_out=""
  fi
fi

echo
echo "Zoufang is running (admin: /healthz /readyz /metrics):"
printf '%-12s %-24s %-24s %s\n' service "gRPC (gateway: HTTP)" admin log
for row in "${rows[@]}"; do echo "$row"; done
echo
# Without passwords: scrollback and screen shares keep them.
hide_password() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }
echo "PostgreSQL: $(hide_password "$DATABASE_URL")"
echo "RabbitMQ:   $(hide_password "$AMQP_URL")"
if [ -n "$token" ]; then
  echo
  signed="ZF_JWT_PRIVATE_KEY"
  [ -n "${ZF_JWT_PRIVATE_KEY:-}" ] || signed="the PUBLISHED development key (ZF_DEV_MODE=1, ZF_JWT_PRIVATE_KEY unset)"
  echo "Development token (sub dev-admin, roles county_admin,township_admin, every region; 12 h),"
  echo "signed with $signed:"
  echo
  echo "  export TOKEN=$token"
  echo
  echo "  grpcurl -plaintext -H \"authorization: Bearer \$TOKEN\" 127.0.0.1:50051 list"
fi
if [ -x target/$profile/petition ]; then
  echo
  echo "Petition bridge: petition systems post signed cases to http://127.0.0.1:8085/v1/cases"
  echo "  (register a source first: POST /v1/petition/RegisterSource through the gateway)."
fi
if [ -x target/$profile/gateway ]; then
  echo
  echo "Console (管理端): http://127.0.0.1:8080/ — sign in as admin with BOOTSTRAP_ADMIN_PASSWORD"
  echo "  (default zoufang-admin-1), which it must change at the first sign-in."
  echo
  echo "Gateway: API docs at http://127.0.0.1:8080/docs (OpenAPI: /openapi.json). Sign in:"
  echo "  curl -s http://127.0.0.1:8080/v1/auth/sign-in -H 'content-type: application/json' \\"
  echo "    -d '{\"username\":\"admin\",\"password\":\"<BOOTSTRAP_ADMIN_PASSWORD, default zoufang-admin-1>\"}'"
fi
if [ -n "$demo_out" ]; then
  echo
  echo "Demo (seed $demo_seed; also in $demo_out):"
  echo
  cat "$demo_out"
  echo
  summary_url=$(grep -o 'http[^ ]*/v1/reports/summary?[^ ]*' "$demo_out" | head -n 1 || true)
  if [ -n "$summary_url" ]; then
    echo "Read its campaign summary as the admin, e.g. as Markdown:"
    echo "  ACCESS_TOKEN=\$(curl -s http://127.0.0.1:8080/v1/auth/sign-in -H 'content-type: application/json' \\"
    echo "    -d '{\"username\":\"admin\",\"password\":\"<BOOTSTRAP_ADMIN_PASSWORD, default zoufang-admin-1>\"}' \\"
    echo "    | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')"
    echo "  curl -s -H \"authorization: Bearer \$ACCESS_TOKEN\" '$summary_url&format=md'"
  fi
fi
echo
echo "Ctrl-C stops everything."

# Wait until a service exits (a crash) or a signal arrives (the traps).
wait -n "${pids[@]}" && rc=0 || rc=$?
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    log "${names[$i]} exited (status $rc) while running"
    show_log_tail "${names[$i]}"
  fi
done
exit 1
