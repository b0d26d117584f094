#!/usr/bin/env bash
# Lints the proto contracts with buf's STANDARD rules (proto/buf.yaml).
#
# buf comes from the npm registry (@bufbuild/buf ships the native binary),
# pinned in tools/buf/package.json and tools/buf/package-lock.json and
# installed with `npm ci` into tools/buf/node_modules (git-ignored) on first
# use. Extra arguments go to `buf lint`, e.g. `--error-format json`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

buf=tools/buf/node_modules/.bin/buf
want=$(sed -n 's/.*"@bufbuild\/buf": *"\([^"]*\)".*/\1/p' tools/buf/package.json)
have=""
[ -x "$buf" ] && have=$("$buf" --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  need npm "install Node.js with npm (Debian's nodejs and npm)"
  log "buf: installing @bufbuild/buf $want with npm ci (found: ${have:-none})"
  npm ci --prefix tools/buf --no-audit --no-fund --loglevel=error
fi

log "buf lint proto ($("$buf" --version))"
"$buf" lint proto "$@" || die "buf lint: the problems above break buf STANDARD rules (proto/buf.yaml)"
log "buf lint: clean"
