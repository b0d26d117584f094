#!/usr/bin/env bash
# Runs every unit and integration test of the workspace against the local
# PostgreSQL and RabbitMQ (started here when they are down). Arguments go to
# `cargo test`, e.g. `scripts/test.sh -p zoufang-registry` or
# `scripts/test.sh --no-fail-fast`.
#
# Plain `cargo test` on purpose (not nextest): it runs the test binaries one
# after another. The end-to-end tests are two binaries of zoufang-e2e: `e2e`
# (every area) and `faults`, whose tests stop and start the RabbitMQ
# application and the PostgreSQL server and so run alone, one at a time
# (each holds a lock), never beside `e2e`.
# One test at a time inside each binary too (RUST_TEST_THREADS=1): every
# end-to-end stack publishes to the same events exchange in the same county,
# so each stack's consumers and taps also see the events of a test running
# beside it (a supervision test saw another stack announce a callback of its
# own visit). Stacks isolated from each other (a virtual host or a county per
# test) would let them run in parallel again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need cargo "install the Rust toolchain (rustup)"

ensure_postgres
ensure_rabbitmq
# The tests' own virtual host, apart from a stack `scripts/run.sh` runs on the
# same broker (zoufang-dev); the end-to-end harness (tests/lib.rs) uses it by
# default (TEST_AMQP_VHOST), and the runtime's own broker tests read AMQP_URL.
ensure_vhost "${TEST_AMQP_VHOST:-zoufang-test}"
export AMQP_URL="amqp://guest:guest@127.0.0.1:5672/${TEST_AMQP_VHOST:-zoufang-test}"

# The gateway's fuzz test drives the OpenAPI document with schemathesis
# (PyPI), kept in a virtualenv under .run/ and reused between runs.
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x .run/venv/bin/schemathesis ] \
  || ! .run/venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  need python3 "install Python 3"
  log "installing schemathesis $SCHEMATHESIS_VERSION into .run/venv"
  python3 -m venv .run/venv
  .run/venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
export ZF_SCHEMATHESIS="$PWD/.run/venv/bin/schemathesis"

# The web console (web/): its packages, the type check against the API's
# own OpenAPI types, its unit tests (vitest) and the release build with its
# initial bundle size (printed; over 350 KB gzipped fails). The gateway
# embeds that build (ZF_WEB_DIST), and the console's end-to-end test drives
# it in Chromium, installed here when missing.
ensure_browser
ensure_web_packages
web_t0=$SECONDS
log "web: npm run typecheck && npm test && npm run build"
(cd web && npm run --silent typecheck && npm test --silent && npm run --silent build) ||
  die "the web console's checks failed"
export ZF_WEB_DIST="$PWD/web/console/dist"
log "web: checked and built in $((SECONDS - web_t0)) s"

log "cargo test --workspace --locked $*"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
t0=$SECONDS
status=0
RUST_TEST_THREADS=1 cargo test --workspace --locked "$@" 2>&1 | tee "$out" || status=${PIPESTATUS[0]}

# One closing line summed over every test binary (unit, integration, doc).
# "test result:" lines look like
#   test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
summary=$(awk '
  /^[[:space:]]*Running / || /^[[:space:]]*Doc-tests / { binaries++ }
  /^test result:/ {
    for (i = 3; i <= NF; i++) {
      n = $(i - 1) + 0
      if ($i ~ /^passed/) passed += n
      if ($i ~ /^failed/) failed += n
      if ($i ~ /^ignored/) ignored += n
    }
  }
  END { printf "%d passed, %d failed, %d ignored in %d test binaries", passed, failed, ignored, binaries }
' "$out")
elapsed=$((SECONDS - t0))
echo
if [ "$status" -eq 0 ]; then
  echo "scripts/test.sh: PASSED: $summary ($elapsed s)"
else
  echo "scripts/test.sh: FAILED (cargo test exited $status): $summary ($elapsed s)"
fi
# The plain closing line test harnesses read: "tests: N passed, N failed".
closing=$(printf '%s\n' "$summary" | sed -E 's/^([0-9]+ passed, [0-9]+ failed).*/tests: \1/')
mkdir -p .run
echo "$closing" > .run/test-summary
echo "$closing"
exit "$status"
