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
cargo test --workspace --locked "$@"
