#!/usr/bin/env bash
# Lints the proto contracts with buf's STANDARD rules (proto/buf.yaml).
# buf comes from the npm registry (@bufbuild/buf ships the binary), pinned in
# tools/buf/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need npm "Node.js with npm"
if [ ! -x tools/buf/node_modules/.bin/buf ]; then
  log "installing buf (npm ci)"
  npm ci --prefix tools/buf --no-audit --no-fund --loglevel=error
fi
(cd proto && ../tools/buf/node_modules/.bin/buf lint)
log "buf lint: clean"
