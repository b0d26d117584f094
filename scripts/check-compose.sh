#!/usr/bin/env bash
# Validates docker-compose.yml.
#
# Where a Docker engine with the compose plugin answers: `docker compose
# config -q`. Always (the engine does not check our conventions): parses the
# file with Python and PyYAML (installed with pip when missing) and checks
#   - every service has `build` or `image`, and a `build` names a Dockerfile
#     that exists;
#   - every Zoufang service (registry, issues, supervision, notify, petition,
#     gateway, or anything built from this repository or using a zoufang*
#     image) runs, by `command`, its own binary (registry runs `registry`),
#     a binary of this workspace: a [[bin]], src/main.rs or src/bin/*.rs of a
#     services/*/Cargo.toml;
#   - a Zoufang service publishes only its public port: the gateway's HTTP
#     port 8080 and the petition webhook 8085; a published gRPC or admin port
#     (the gateway's admin port serves the token exchange) is an error, they
#     stay on the compose network; infrastructure publishes its convention
#     ports (5432 for postgres; 5672 and 15672 for rabbitmq; 4317/4318 for
#     otel-collector, 16686 for jaeger, 9090 for prometheus, 3000 for
#     grafana) on 127.0.0.1 only; GRPC_ADDR/HTTP_ADDR and ADMIN_ADDR use the
#     convention ports, and the healthcheck asks the service's own /readyz;
#   - every environment variable a Zoufang service is given is one its
#     binary reads (`env = "…"` in its config.rs or zoufang-core's config);
#   - settings that must not be empty (DATABASE_URL, AMQP_URL) do not come
#     out empty when the variable they interpolate is unset; secrets
#     (ZF_JWT_PUBLIC_KEY, ZF_JWT_PRIVATE_KEY, ZF_PII_KEY, ZF_SERVICE_SECRET,
#     ZF_SERVICE_CLIENTS, BOOTSTRAP_ADMIN_PASSWORD) have no default: they are
#     `${VAR:?message}` (or a _FILE variant), and ZF_DEV_MODE is never set;
#   - depends_on targets exist, and `service_healthy` targets have a
#     healthcheck; every host file or folder the compose file mounts exists
#     (mounted .yml/.yaml/.json files parse), every named volume is declared;
#   - OTEL_EXPORTER_OTLP_ENDPOINT names a service of this file;
#   - the Prometheus config (the file mounted at /etc/prometheus/
#     prometheus.yml) scrapes exactly the Zoufang services of this file at
#     their admin ports, each in a job named after the service, at /metrics;
#   - every zf_* metric the Grafana dashboards' PromQL uses (without a
#     _bucket/_sum/_count suffix) is defined in services/shared/core/src/
#     metrics.rs, the dashboards use the provisioned datasource's uid, and
#     the dashboard provider reads the folder the dashboards are mounted at.
set -euo pipefail
file=${1:-docker-compose.yml}
case $file in /*) ;; *) [ -z "${1:-}" ] || file="$PWD/$file" ;; esac
cd "$(dirname "$0")/.."
source scripts/lib.sh
need python3 "install Python 3"

[ -f "$file" ] || die "$file not found"

if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1 &&
  docker compose version >/dev/null 2>&1; then
  docker compose -f "$file" config -q || die "docker compose config rejects $file"
  log "docker compose config: $file is valid"
else
  log "no Docker engine with compose here: checking $file with Python only"
fi

if ! python3 -c 'import yaml' 2>/dev/null; then
  log "installing PyYAML with pip"
  python3 -m pip install --quiet --disable-pip-version-check pyyaml ||
    die "PyYAML is missing and 'pip install pyyaml' failed"
fi

python3 - "$file" <<'PY'
import json
import pathlib
import re
import sys
import tomllib

import yaml

path = pathlib.Path(sys.argv[1])
base = path.parent  # compose resolves relative paths from the file's folder
errors = []


def err(msg):
    errors.append(msg)


# The conventions of DESIGN.md §3: service -> (listen variable, port).
ZOUFANG = {
    "registry": ("GRPC_ADDR", 50051),
    "issues": ("GRPC_ADDR", 50052),
    "supervision": ("GRPC_ADDR", 50053),
    "notify": ("GRPC_ADDR", 50054),
    "petition": ("GRPC_ADDR", 50055),
    "gateway": ("HTTP_ADDR", 8080),
}
# Listeners beyond gRPC and admin: service -> (listen variable, port).
EXTRA_PORTS = {"petition": ("WEBHOOK_ADDR", 8085)}
INFRA_PORTS = {
    "postgres": {5432},
    "rabbitmq": {5672, 15672},
    # Jaeger's own OTLP port stays inside the network: the collector feeds it.
    "otel-collector": {4317, 4318},
    "jaeger": {16686},
    "prometheus": {9090},
    "grafana": {3000},
}
METRICS_RS = pathlib.Path("services/shared/core/src/metrics.rs")
NOT_EMPTY = ("DATABASE_URL", "AMQP_URL")
# Secrets: required from the environment, never defaulted in this file.
SECRETS = ("ZF_JWT_PUBLIC_KEY", "ZF_JWT_PRIVATE_KEY", "ZF_PII_KEY", "ZF_SERVICE_SECRET",
           "ZF_SERVICE_CLIENTS", "BOOTSTRAP_ADMIN_PASSWORD")
# The only ports of Zoufang services the host may reach.
PUBLIC_PORTS = {"gateway": {8080}, "petition": {8085}}


def workspace_binaries():
    """Binary name -> manifest, from services/*/Cargo.toml as cargo finds them."""
    bins = {}
    for manifest in sorted(pathlib.Path("services").glob("*/Cargo.toml")):
        crate = manifest.parent
        data = tomllib.loads(manifest.read_text())
        package = data.get("package", {})
        declared = data.get("bin", [])
        paths = set()
        for b in declared:
            if "name" in b:
                bins[b["name"]] = str(manifest)
            paths.add(b.get("path", ""))
        if package.get("autobins", True):
            if (crate / "src/main.rs").is_file() and "src/main.rs" not in paths:
                bins[package.get("name", crate.name)] = str(manifest)
            for f in sorted((crate / "src/bin").glob("*.rs")):
                rel = str(f.relative_to(crate))
                if rel not in paths:
                    bins[f.stem] = str(manifest)
            for f in sorted((crate / "src/bin").glob("*/main.rs")):
                rel = str(f.relative_to(crate))
                if rel not in paths:
                    bins[f.parent.name] = str(manifest)
    return bins


# Read by libraries (or zoufang-core's telemetry) rather than our config structs.
LIBRARY_VARIABLES = {"RUST_LOG", "RUST_BACKTRACE", "ZF_TRACE_FILTER"}


def config_variables(service):
    """The environment variables a service binary reads: `env = "X"` in its
    config.rs and zoufang-core's CommonConfig, plus library ones."""
    names = set(LIBRARY_VARIABLES)
    for f in (pathlib.Path(f"services/{service}/src/config.rs"),
              pathlib.Path("services/shared/core/src/config.rs")):
        if f.is_file():
            names.update(re.findall(r'env\s*=\s*"([A-Z][A-Z0-9_]*)"', f.read_text()))
    return names


def interpolate_unset(value):
    """The value compose would give when every variable it names is unset."""
    if not isinstance(value, str):
        return "" if value is None else str(value)

    def repl(m):
        inner = m.group(1) or m.group(2) or ""
        for op in (":-", "-"):
            if op in inner:
                return inner.split(op, 1)[1]
        if ":?" in inner or "?" in inner:
            return "<required>"
        return ""

    return re.sub(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, value.replace("$$", "\0"))


def environment(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, sep, v = str(item).partition("=")
            out[k] = v if sep else None
        return out
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def mounts(svc):
    """(source, target) of every volume entry (short or long syntax)."""
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            out.append((str(v.get("source") or ""), str(v.get("target") or "")))
        else:
            parts = str(v).split(":")
            out.append((parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0]))
    return out


def is_host_path(source):
    return source.startswith(("./", "../", "/", "~"))


def mounted_at(svc, target):
    """The host path mounted at `target` (a file or a folder above it)."""
    for source, t in mounts(svc):
        if not is_host_path(source):
            continue
        if t == target:
            return base / source
        if target.startswith(t.rstrip("/") + "/"):
            return base / source / target[len(t.rstrip("/")) + 1:]
    return None


def services_by_image(prefix):
    return [n for n, s in services.items() if str((s or {}).get("image", "")).startswith(prefix)]


def port_of(addr):
    m = re.search(r":(\d+)$", interpolate_unset(addr or ""))
    return int(m.group(1)) if m else None


def published_ports(name, svc):
    """(host port or None, container port) pairs."""
    pairs = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            host = p.get("published")
            pairs.append((int(host) if host not in (None, "") else None, int(p["target"])))
            continue
        if isinstance(p, int):
            err(f"{name}: port {p!r} is a bare number; quote port mappings "
                "(YAML reads some unquoted a:b as base-60 numbers)")
            pairs.append((None, p))
            continue
        spec = str(p).split("/")[0]
        parts = spec.split(":")
        try:
            container = int(parts[-1])
            host = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        except ValueError:
            err(f"{name}: cannot read port mapping {p!r} (ranges are not used here)")
            continue
        pairs.append((host, container))
    return pairs


try:
    compose = yaml.safe_load(path.read_text())
except yaml.YAMLError as e:
    print(f"{path}: not valid YAML: {e}", file=sys.stderr)
    sys.exit(1)
if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict) or not compose["services"]:
    print(f"{path}: no services", file=sys.stderr)
    sys.exit(1)
services = compose["services"]
binaries = workspace_binaries()

for name, svc in services.items():
    svc = svc or {}
    build = svc.get("build")
    if "image" not in svc and build is None:
        err(f"{name}: has neither build nor image")
    if build is not None:
        context = base / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        if not (context / dockerfile).is_file():
            err(f"{name}: build file {dockerfile} (in context {context}) does not exist")

    # depends_on: a list of names or a map of name -> {condition}.
    deps = svc.get("depends_on") or {}
    for dep in deps:
        if dep not in services:
            err(f"{name}: depends_on names {dep!r}, which is not a service of this file")
            continue
        cond = deps[dep].get("condition", "service_started") if isinstance(deps, dict) else "service_started"
        if cond not in ("service_started", "service_healthy", "service_completed_successfully"):
            err(f"{name}: depends_on {dep}: unknown condition {cond!r}")
        if cond == "service_healthy" and not (services[dep] or {}).get("healthcheck"):
            err(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")

    # Host files and folders it mounts must exist (and parse, where we can
    # tell their format); named volumes must be declared.
    for source, _target in mounts(svc):
        if is_host_path(source):
            host = base / source
            if not host.exists():
                err(f"{name}: mounts {source}, which does not exist")
            elif host.is_file() and host.suffix in (".yml", ".yaml", ".json"):
                try:
                    text = host.read_text()
                    json.loads(text) if host.suffix == ".json" else yaml.safe_load(text)
                except (ValueError, yaml.YAMLError) as e:
                    err(f"{name}: mounts {source}, which does not parse: {e}")
        elif source and source not in (compose.get("volumes") or {}):
            err(f"{name}: mounts the volume {source!r}, which the top-level volumes: does not declare")
    for env_file in ([svc["env_file"]] if isinstance(svc.get("env_file"), str) else svc.get("env_file") or []):
        env_path = env_file.get("path", "") if isinstance(env_file, dict) else env_file
        required = env_file.get("required", True) if isinstance(env_file, dict) else True
        if required and not (base / env_path).is_file():
            err(f"{name}: env_file {env_path} does not exist")

    env = environment(svc)
    for key in NOT_EMPTY:
        if key in env and not interpolate_unset(env[key]):
            err(f"{name}: {key} is empty when it is not set in the environment "
                f"({env[key]!r}); give it a default (${{{key}:-...}}) or leave it out")

    for key in SECRETS:
        value = env.get(key)
        if value is None:
            continue
        if not re.fullmatch(r"\$\{" + r"[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}", value.strip()):
            err(f"{name}: {key}={value!r} must be required from the environment, "
                f"${{VAR:?message}}, never a value or a default in this file")
    if "ZF_DEV_MODE" in env:
        err(f"{name}: sets ZF_DEV_MODE; development mode (published keys) never runs from this file")

    ports = published_ports(name, svc)
    if name in INFRA_PORTS:
        for host, container in ports:
            if container not in INFRA_PORTS[name] or host not in (None, container):
                err(f"{name}: publishes {host}:{container}; expected {sorted(INFRA_PORTS[name])}")
        for p in svc.get("ports") or []:
            if not str(p.get("host_ip", "") if isinstance(p, dict) else p).startswith("127.0.0.1:"):
                err(f"{name}: publishes {p!r} on every interface; publish it on 127.0.0.1 only")
        continue

    ours = build is not None or str(svc.get("image", "")).startswith("zoufang")
    if name not in ZOUFANG and not ours:
        continue  # some other image; nothing of ours to check
    if name not in ZOUFANG:
        err(f"{name}: built from this repository but has no port convention "
            f"(known: {', '.join(ZOUFANG)}); add it to DESIGN.md and this check")
        continue

    command = svc.get("command")
    if isinstance(command, str):
        command = command.split()
    binary = command[0] if command else None
    if binary is None:
        err(f"{name}: has no command; it must name its binary ({name})")
    elif binary not in binaries:
        err(f"{name}: command runs {binary!r}, which is not a binary of services/*/Cargo.toml "
            f"(binaries: {', '.join(sorted(binaries))})")
    elif binary != name:
        err(f"{name}: command runs {binary!r}; the {name} service's binary is {name!r} (DESIGN.md §3)")

    listen_var, port = ZOUFANG[name]
    admin = port + 1000
    allowed = {port, admin}
    if name in EXTRA_PORTS:
        extra_var, extra = EXTRA_PORTS[name]
        allowed.add(extra)
        if port_of(env.get(extra_var)) != extra:
            err(f"{name}: {extra_var}={env.get(extra_var)!r} does not listen on {extra}")
    public = PUBLIC_PORTS.get(name, set())
    for host, container in ports:
        if container in (port, admin) and container not in public:
            kind = "admin" if container == admin else "gRPC"
            err(f"{name}: publishes its {kind} port {container}; gRPC and admin ports stay "
                "on the compose network (only the gateway and the petition webhook are public)")
        elif container not in allowed or host not in (None, container):
            err(f"{name}: publishes {host}:{container}; {name} uses {sorted(allowed)}, same on both sides")
    for p in sorted(public - {c for _, c in ports}):
        err(f"{name}: does not publish its public port {p}")
    if port_of(env.get(listen_var)) != port:
        err(f"{name}: {listen_var}={env.get(listen_var)!r} does not listen on {port}")
    if port_of(env.get("ADMIN_ADDR")) != admin:
        err(f"{name}: ADMIN_ADDR={env.get('ADMIN_ADDR')!r} does not listen on {admin}")
    test = (svc.get("healthcheck") or {}).get("test")
    test = " ".join(test) if isinstance(test, list) else str(test or "")
    if f":{admin}/readyz" not in test:
        err(f"{name}: healthcheck {test!r} does not ask its /readyz on port {admin}")

    # Every variable given to a service must be one its binary reads: a typo
    # (REGISTY_URL) would otherwise be ignored silently and the default used.
    known = config_variables(name)
    for key in env:
        if key not in known:
            err(f"{name}: sets {key}, which {name} does not read "
                f"(its config: services/{name}/src/config.rs and zoufang-core's CommonConfig)")

# --- OTLP: the services' endpoint must be a service of this file.
for name, svc in services.items():
    endpoint = environment(svc or {}).get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint is None:
        continue
    m = re.match(r"^[a-z]+://([^:/]+)(?::(\d+))?", interpolate_unset(endpoint))
    if not m:
        err(f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT={endpoint!r} is not a URL")
    elif m.group(1) not in services and m.group(1) not in ("localhost", "127.0.0.1"):
        err(f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT={endpoint!r} names {m.group(1)!r}, "
            "which is not a service of this file")

# --- Prometheus: scrape exactly our services at their admin ports.
ours_in_file = {
    n: ZOUFANG[n][1] + 1000
    for n, s in services.items()
    if n in ZOUFANG
}
for prom in services_by_image("prom/prometheus"):
    config_path = mounted_at(services[prom] or {}, "/etc/prometheus/prometheus.yml")
    if config_path is None:
        err(f"{prom}: mounts no /etc/prometheus/prometheus.yml; mount deploy/prometheus/prometheus.yml")
        continue
    if not config_path.is_file():
        continue  # reported above as a missing mount
    config = yaml.safe_load(config_path.read_text()) or {}
    scraped = {}  # host -> (port, job)
    jobs = set()
    for job in config.get("scrape_configs") or []:
        job_name = job.get("job_name")
        if job_name in jobs:
            err(f"{config_path}: job {job_name!r} appears twice")
        jobs.add(job_name)
        metrics_path = job.get("metrics_path", "/metrics")
        for sc in job.get("static_configs") or []:
            for target in sc.get("targets") or []:
                host, _, port = str(target).rpartition(":")
                if not host or not port.isdigit():
                    err(f"{config_path}: job {job_name}: target {target!r} is not host:port")
                    continue
                if host in scraped:
                    err(f"{config_path}: {host} is scraped twice")
                scraped[host] = (int(port), job_name)
                if host in ZOUFANG:
                    if metrics_path != "/metrics":
                        err(f"{config_path}: job {job_name} scrapes {metrics_path}, not /metrics")
                    if job_name != host:
                        err(f"{config_path}: {host} is scraped by job {job_name!r}; name the job "
                            f"{host!r} (the dashboard groups by job)")
                elif host not in services:
                    err(f"{config_path}: job {job_name} scrapes {host}, which is not a service "
                        "of the compose file")
    for svc_name, admin in sorted(ours_in_file.items()):
        if svc_name not in scraped:
            err(f"{config_path}: does not scrape {svc_name} (add {svc_name}:{admin})")
        elif scraped[svc_name][0] != admin:
            err(f"{config_path}: scrapes {svc_name} at port {scraped[svc_name][0]}; "
                f"its admin port is {admin}")
    for host in sorted(scraped):
        if host in ZOUFANG and host not in services:
            err(f"{config_path}: scrapes {host}, which the compose file does not run")

# --- Grafana: dashboards use metrics the shared crates define, and the datasource
# and dashboard folder the provisioning sets up.
defined = set(re.findall(r'"(zf_[a-z0-9_]+)"', METRICS_RS.read_text())) if METRICS_RS.is_file() else set()
if not defined:
    err(f"{METRICS_RS}: no zf_* metric names found")
for graf in services_by_image("grafana/grafana"):
    gsvc = services[graf] or {}
    datasources = mounted_at(gsvc, "/etc/grafana/provisioning/datasources")
    providers = mounted_at(gsvc, "/etc/grafana/provisioning/dashboards")
    uids = set()
    if datasources is None or not datasources.is_dir():
        err(f"{graf}: mounts no folder at /etc/grafana/provisioning/datasources")
    else:
        for f in sorted(datasources.glob("*.y*ml")):
            for ds in (yaml.safe_load(f.read_text()) or {}).get("datasources") or []:
                uids.add(ds.get("uid"))
                if ds.get("type") == "prometheus" and not any(
                    str(ds.get("url", "")).startswith(f"http://{p}:9090")
                    for p in services_by_image("prom/prometheus")
                ):
                    err(f"{f}: datasource {ds.get('name')} points at {ds.get('url')!r}, "
                        "not at the compose file's prometheus")
    dashboard_dirs = []
    if providers is None or not providers.is_dir():
        err(f"{graf}: mounts no folder at /etc/grafana/provisioning/dashboards")
    else:
        for f in sorted(providers.glob("*.y*ml")):
            for prov in (yaml.safe_load(f.read_text()) or {}).get("providers") or []:
                where = (prov.get("options") or {}).get("path", "")
                host_dir = mounted_at(gsvc, where)
                if host_dir is None or not host_dir.is_dir():
                    err(f"{f}: provider {prov.get('name')} reads {where}, where no folder is mounted")
                else:
                    dashboard_dirs.append(host_dir)
    if not dashboard_dirs:
        err(f"{graf}: provisions no dashboards")
    used = set()
    for folder in dashboard_dirs:
        for f in sorted(folder.glob("*.json")):
            try:
                dash = json.loads(f.read_text())
            except ValueError as e:
                err(f"{f}: not valid JSON: {e}")
                continue
            exprs = []
            bad_uids = set()

            def walk(node):
                if isinstance(node, dict):
                    ds = node.get("datasource")
                    if isinstance(ds, dict) and ds.get("uid") and not str(ds["uid"]).startswith("$") \
                            and ds["uid"] not in uids and ds["uid"] != "-- Grafana --":
                        bad_uids.add(ds["uid"])
                    for k, v in node.items():
                        if k in ("expr", "query") and isinstance(v, str):
                            exprs.append(v)
                        else:
                            walk(v)
                elif isinstance(node, list):
                    for v in node:
                        walk(v)

            walk(dash)
            for uid in sorted(bad_uids):
                err(f"{f}: uses datasource uid {uid!r}; provisioned: {sorted(u for u in uids if u)}")
            if not exprs:
                err(f"{f}: has no PromQL expressions")
            missing = set()
            for e in exprs:
                for metric in re.findall(r"\bzf_[a-z0-9_]+", e):
                    base_name = re.sub(r"_(bucket|sum|count)$", "", metric)
                    used.add(base_name)
                    if metric not in defined and base_name not in defined:
                        missing.add((metric, base_name))
            for metric, base_name in sorted(missing):
                err(f"{f}: uses {metric}, but {METRICS_RS} defines no {base_name!r} "
                    f"(defined: {', '.join(sorted(defined))})")
    unused = sorted(defined - used)
    if dashboard_dirs and unused:
        print(f"note: metrics no dashboard shows yet: {', '.join(unused)}", file=sys.stderr)

for e in errors:
    print(f"{path}: {e}", file=sys.stderr)
if errors:
    print(f"{path}: {len(errors)} problem(s)", file=sys.stderr)
    sys.exit(1)
print(f"{path}: {len(services)} services checked ({', '.join(services)}); "
      f"workspace binaries: {', '.join(sorted(binaries))}")
PY
