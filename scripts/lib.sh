# shellcheck shell=bash
# Shared helpers for Zoufang's scripts; source it, do not run it:
#
#   source scripts/lib.sh
#
#   log MESSAGE...     one time-stamped line on stderr
#   die MESSAGE...     log "error: ..." and exit 1
#   need TOOL HINT     die with HINT unless TOOL is on PATH
#   ensure_postgres    make sure PostgreSQL answers on 127.0.0.1:5432,
#                      starting the local cluster if it does not
#   ensure_rabbitmq    make sure the local RabbitMQ node runs with its
#                      application started, starting it if it does not
#   ensure_vhost NAME  make sure the local RabbitMQ has the virtual host NAME
#                      and that the user guest may use all of it (after
#                      ensure_rabbitmq)
#
# The ensure_* functions print exactly one line saying what they did, or die
# with a message saying what failed and where to look.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH: $2"
}

ZF_PG_HOST=127.0.0.1
ZF_PG_PORT=5432

ensure_postgres() {
  need pg_isready "install Debian's postgresql-client"
  if pg_isready -q -h "$ZF_PG_HOST" -p "$ZF_PG_PORT"; then
    log "postgres: already up on $ZF_PG_HOST:$ZF_PG_PORT"
    return 0
  fi
  need pg_ctlcluster "install Debian's postgresql (or start PostgreSQL on $ZF_PG_HOST:$ZF_PG_PORT yourself)"
  local version out t0=$SECONDS
  # One directory per installed major version; take the newest.
  # shellcheck disable=SC2012 # version numbers only
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1) || true
  [ -n "$version" ] || die "postgres: down, and no cluster under /etc/postgresql to start"
  # Exit status 2 means "already running" (e.g. still starting up): the wait
  # below decides.
  out=$(pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1) || true
  while [ $((SECONDS - t0)) -lt 60 ]; do
    if pg_isready -q -h "$ZF_PG_HOST" -p "$ZF_PG_PORT"; then
      log "postgres: was down; started cluster $version/main, up on $ZF_PG_HOST:$ZF_PG_PORT after $((SECONDS - t0)) s"
      return 0
    fi
    sleep 1
  done
  die "postgres: cluster $version/main did not accept connections on $ZF_PG_HOST:$ZF_PG_PORT within 60 s" \
    "(pg_ctlcluster said: ${out:-nothing}; see /var/log/postgresql/postgresql-$version-main.log)"
}

ensure_rabbitmq() {
  need rabbitmqctl "install Debian's rabbitmq-server"
  need rabbitmq-diagnostics "install Debian's rabbitmq-server"
  local t0=$SECONDS
  if timeout 30 rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    # The node answers, but its application may be stopped (a test stops and
    # starts it with rabbitmqctl stop_app/start_app; a crash in between leaves
    # it stopped).
    if timeout 30 rabbitmq-diagnostics -q check_running >/dev/null 2>&1; then
      log "rabbitmq: already up (node running, application started)"
      return 0
    fi
    # start_app fails when the application is already booting; the wait
    # below decides.
    timeout 60 rabbitmqctl -q start_app >/dev/null 2>&1 || true
    _zf_await_rabbitmq "$t0" ||
      die "rabbitmq: the node answers but its application did not start within 120 s ('rabbitmqctl start_app'); see /var/log/rabbitmq/"
    log "rabbitmq: node was up with its application stopped; started the application ($((SECONDS - t0)) s)"
    return 0
  fi
  need rabbitmq-server "install Debian's rabbitmq-server"
  # Detached: returns at once. If a node is already booting, this second start
  # fails harmlessly and the wait below picks up the booting node.
  rabbitmq-server -detached >/dev/null 2>&1 || true
  _zf_await_rabbitmq "$t0" ||
    die "rabbitmq: did not start within 120 s; see /var/log/rabbitmq/ (startup_log, startup_err, rabbit@*.log)"
  log "rabbitmq: was down; started it with rabbitmq-server -detached, up after $((SECONDS - t0)) s"
}

# One virtual host per stack: two stacks on one broker would otherwise share
# queue names (`scripts/run.sh` uses zoufang-dev, the tests zoufang-test).
# add_vhost and set_permissions are idempotent.
ensure_vhost() {
  local vhost=$1 out
  out=$(timeout 60 rabbitmqctl -q add_vhost "$vhost" 2>&1) ||
    die "rabbitmq: could not add the virtual host '$vhost' (rabbitmqctl add_vhost said: ${out:-nothing})"
  out=$(timeout 60 rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' 2>&1) ||
    die "rabbitmq: could not let guest use the virtual host '$vhost' (rabbitmqctl set_permissions said: ${out:-nothing})"
  log "rabbitmq: virtual host '$vhost' ready (user guest)"
}

# Waits until 120 s after $1 (a $SECONDS value) for the RabbitMQ application.
# Right after a start the node may not be reachable yet, and await_startup
# then fails at once instead of waiting: retry until the deadline.
_zf_await_rabbitmq() {
  while [ $((SECONDS - $1)) -lt 120 ]; do
    timeout 30 rabbitmqctl -q await_startup --timeout 20 >/dev/null 2>&1 && return 0
    sleep 2
  done
  return 1
}

# The browser the console's end-to-end tests drive (Debian's chromium, with
# fonts-noto-cjk so pages and screenshots show Chinese), installed from
# Debian's packages when missing; root (CI) installs, anyone else is told.
ensure_browser() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 ||
    missing+=(fonts-noto-cjk)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "browser: $(/usr/bin/chromium --version 2>/dev/null | head -n 1) with fonts-noto-cjk"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] ||
    die "the console tests need ${missing[*]}: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  local t0=$SECONDS
  log "browser: installing ${missing[*]} from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "apt-get could not install ${missing[*]}"
  log "browser: installed ${missing[*]} in $((SECONDS - t0)) s"
}

# The web workspace's packages (web/node_modules), installed with npm ci
# when missing or older than package-lock.json.
ensure_web_packages() {
  need node "install Node.js 20 (Debian's nodejs, or nodesource)"
  need npm "install npm"
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    local t0=$SECONDS
    log "web: npm ci"
    (cd web && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in web/"
    log "web: packages installed in $((SECONDS - t0)) s"
  fi
}
