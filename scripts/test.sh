#!/usr/bin/env bash
# Runs every test of the workspace against the local PostgreSQL and RabbitMQ.
# Test binaries run one after another (plain `cargo test`): one of them
# restarts RabbitMQ to prove that nothing is lost.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_postgres
ensure_rabbitmq
log "running the tests"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
cargo test --workspace --locked "$@" 2>&1 | tee "$out" || status=$?
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$out"
exit "$status"
