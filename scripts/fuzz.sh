#!/usr/bin/env bash
# Fuzzes Zoufang's parsers with cargo-fuzz (libFuzzer) for a bounded time:
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 30 s, every target)
#
# Targets (fuzz/fuzz_targets/, bodies in tests/fuzz_bodies.rs): id_number,
# region_code, import_row (CSV/XLSX through the import's reader and row
# parsers), event_decode (AMQP properties and payload as the consumer
# decodes them). Installs cargo-fuzz (pinned) when missing, builds every
# target, then runs each one. A crash is copied into
# tests/fuzz-regressions/<target>/, where the test `e2e` (module `fuzz_regressions`)
# replays it through the same body; the script then exits 1 naming the
# files to commit.
#
# Each run starts from its seeds (tests/fuzz-regressions/<target>/, read
# only) and the working corpus fuzz/corpus/<target>/ (git-ignored, kept
# between local runs). libFuzzer's output goes to .run/fuzz/<target>.log.
#
# Environment: ZF_FUZZ_TARGET_DIR (build outputs, default fuzz/target),
# ZF_FUZZ_SANITIZER (default none: the code under test forbids unsafe, and
# without ASan a run makes about twice the executions; "address" also
# checks the unsafe code of the dependencies), ZF_FUZZ_TIMEOUT (seconds one
# input may take before it counts as a hang, default 30).
#
# cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain take them (no nightly toolchain can be installed here).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need cargo "install the Rust toolchain (rustup)"

CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(id_number region_code import_row event_decode)

secs=${1:-30}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*) die "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...] (got seconds '$secs')" ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || die "no fuzz target '$t' (have: ${ALL_TARGETS[*]})"
done

export RUSTC_BOOTSTRAP=1
target_dir=${ZF_FUZZ_TARGET_DIR:-$PWD/fuzz/target}
sanitizer=${ZF_FUZZ_SANITIZER:-none}
timeout=${ZF_FUZZ_TIMEOUT:-30}

t0=$SECONDS
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install --locked)"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --quiet
  log "cargo-fuzz installed in $((SECONDS - t0)) s"
fi
log "$(cargo fuzz --version)"

# The same options for build and run, so run does not rebuild.
opts=(--fuzz-dir fuzz --target-dir "$target_dir" --sanitizer "$sanitizer")
t_build=$SECONDS
log "building ${targets[*]} (sanitizer: $sanitizer, outputs in $target_dir)"
if [ ${#targets[@]} -eq ${#ALL_TARGETS[@]} ]; then
  cargo fuzz build "${opts[@]}" # all at once: one cargo run links them in parallel
else
  for t in "${targets[@]}"; do
    cargo fuzz build "${opts[@]}" "$t"
  done
fi
log "built in $((SECONDS - t_build)) s"

mkdir -p .run/fuzz
crashes=()
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  seeds=tests/fuzz-regressions/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$seeds" "$artifacts"
  # Artifacts of earlier runs are not this run's findings.
  marker=$(mktemp)
  logfile=.run/fuzz/$t.log
  log "fuzzing $t for $secs s (log: $logfile)"
  status=0
  # The working corpus first: libFuzzer adds what it finds to the first directory.
  cargo fuzz run "${opts[@]}" "$t" "$corpus" "$seeds" -- \
    -max_total_time="$secs" -timeout="$timeout" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$logfile" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$logfile" | tail -n 1 || true)
  found=()
  while IFS= read -r f; do
    [ -n "$f" ] && found+=("$f")
  done < <(find "$artifacts" -type f -newer "$marker" \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | sort)
  rm -f "$marker"
  if [ "$status" -eq 0 ] && [ ${#found[@]} -eq 0 ]; then
    log "$t: ok, ${execs:-?} executions, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) files"
    continue
  fi
  log "$t: FAILED (exit $status); the end of $logfile:"
  tail -n 40 "$logfile" >&2
  if [ ${#found[@]} -eq 0 ]; then
    die "$t: the fuzzer failed without leaving a crashing input; see $logfile"
  fi
  for f in "${found[@]}"; do
    cp "$f" "$seeds/"
    crashes+=("$seeds/$(basename "$f")")
  done
done

if [ ${#crashes[@]} -gt 0 ]; then
  log "the fuzzers found ${#crashes[@]} failing input(s), now kept as regressions:"
  for c in "${crashes[@]}"; do log "  $c"; done
  log "fix the bug, check with 'cargo test -p zoufang-e2e --test e2e fuzz_regressions::', and commit those files"
  exit 1
fi
log "fuzzing done: ${targets[*]} for $secs s each, no crash ($((SECONDS - t0)) s in all)"
