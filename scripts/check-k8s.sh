#!/usr/bin/env bash
# Validates the Kubernetes manifests in deploy/k8s/ (or the folder given).
#
# Always, with Python and PyYAML (installed with pip when missing):
#   - every *.yaml parses (yaml.safe_load_all), every document has
#     apiVersion, kind and metadata.name, and no two share kind + name;
#   - kustomization.yaml lists exactly the other *.yaml files;
#   - every Deployment
#       * runs a binary of this workspace (`args[0]`, a [[bin]] of a
#         services/*/Cargo.toml) named like the Deployment;
#       * listens where the conventions say: GRPC_ADDR / HTTP_ADDR on a
#         declared containerPort, ADMIN_ADDR on that port + 1000, also declared;
#       * has a livenessProbe (httpGet /healthz) and a readinessProbe
#         (httpGet /readyz), both on that admin port (by number or by name);
#       * has resources.requests and resources.limits for cpu and memory;
#       * has a Service of the same name whose selector picks its pods and
#         which exposes its main port, a HorizontalPodAutoscaler on it with a
#         cpu metric and minReplicas >= 2, and a PodDisruptionBudget whose
#         selector picks its pods;
#       * reads ConfigMaps / Secrets that exist in the manifests, and every
#         $(VAR) in its env is defined before use (envFrom keys or earlier env);
#   - nothing is reachable from outside the cluster but through an Ingress:
#     every Service is ClusterIP (no NodePort, LoadBalancer or externalIPs),
#     no container has a hostPort and no pod uses the host network;
#   - only the gateway reads the signing key (ZF_JWT_PRIVATE_KEY): no other
#     Deployment gets it, by env or by envFrom of a Secret holding it; and
#     no Deployment sets ZF_DEV_MODE.
# Where kubectl is on PATH, also `kubectl kustomize` (offline: no cluster
# needed) must build the folder. Where `kubernetes-validate` (PyPI package
# kubernetes-validate) is on PATH, every resource is also validated, strictly
# (unknown fields rejected), against the Kubernetes API schemas it bundles.
set -euo pipefail
dir=${1:-deploy/k8s}
case $dir in /*) ;; *) dir="$PWD/$dir" ;; esac
cd "$(dirname "$0")/.."
source scripts/lib.sh
need python3 "install Python 3"
[ -d "$dir" ] || die "$dir not found"

if ! python3 -c 'import yaml' 2>/dev/null; then
  log "installing PyYAML with pip"
  python3 -m pip install --quiet --disable-pip-version-check pyyaml ||
    die "PyYAML is missing and 'pip install pyyaml' failed"
fi

python3 - "$dir" <<'PY'
import pathlib
import re
import sys
import tomllib

import yaml

folder = pathlib.Path(sys.argv[1])
errors = []


def err(msg):
    errors.append(msg)


# --- 1. Parse every file. ---------------------------------------------------
docs = []  # (file name, document)
files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
if not files:
    err(f"no *.yaml files in {folder}")
kustomization = None
for f in files:
    try:
        loaded = [d for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as e:
        err(f"{f.name}: not valid YAML: {e}")
        continue
    if f.name in ("kustomization.yaml", "kustomization.yml"):
        kustomization = (f.name, loaded[0] if loaded else {})
        continue
    for d in loaded:
        if not isinstance(d, dict):
            err(f"{f.name}: a document is not a mapping")
            continue
        name = (d.get("metadata") or {}).get("name")
        if not d.get("apiVersion") or not d.get("kind") or not name:
            err(f"{f.name}: a document lacks apiVersion, kind or metadata.name")
            continue
        docs.append((f.name, d))

seen = {}
for fname, d in docs:
    key = (d["kind"], d["metadata"]["name"])
    if key in seen:
        err(f"{fname}: {key[0]} {key[1]} is also defined in {seen[key]}")
    seen[key] = fname

# --- 2. The kustomization lists every manifest. -----------------------------
if kustomization is None:
    err("no kustomization.yaml")
else:
    kname, k = kustomization
    listed = set(k.get("resources") or [])
    present = {f.name for f in files if f.name not in ("kustomization.yaml", "kustomization.yml")}
    for missing in sorted(present - listed):
        err(f"{kname}: resources does not list {missing}")
    for extra in sorted(listed - present):
        err(f"{kname}: resources lists {extra}, which is not in {folder}")


def of_kind(kind):
    return [(f, d) for f, d in docs if d["kind"] == kind]


def matches(selector, labels):
    """A label selector (matchLabels or a plain map) picks these labels."""
    wanted = selector.get("matchLabels", selector) if selector else {}
    if not wanted or not isinstance(wanted, dict):
        return False
    return all(labels.get(k) == v for k, v in wanted.items())


def port_of(addr):
    m = re.fullmatch(r".*:(\d+)", str(addr or ""))
    return int(m.group(1)) if m else None


# The workspace's binaries: [[bin]] names and src/main.rs / src/bin/*.rs.
binaries = set()
for manifest in pathlib.Path("services").glob("*/Cargo.toml"):
    cargo = tomllib.loads(manifest.read_text(encoding="utf-8"))
    for b in cargo.get("bin", []):
        binaries.add(b["name"])
    crate = manifest.parent
    if (crate / "src/main.rs").exists() and not cargo.get("bin"):
        binaries.add(cargo["package"]["name"])
    binaries.update(p.stem for p in (crate / "src/bin").glob("*.rs"))

config_keys = {}  # (kind, name) -> keys
for f, d in docs:
    if d["kind"] in ("ConfigMap", "Secret"):
        config_keys[(d["kind"], d["metadata"]["name"])] = set((d.get("data") or {}).keys()) | set(
            (d.get("stringData") or {}).keys()
        )

# --- 3. Every Deployment. ----------------------------------------------------
deployments = of_kind("Deployment")
if not deployments:
    err("no Deployment in the manifests")
for fname, dep in deployments:
    name = dep["metadata"]["name"]
    where = f"{fname}: Deployment {name}"
    spec = dep.get("spec") or {}
    template = spec.get("template") or {}
    pod_labels = (template.get("metadata") or {}).get("labels") or {}
    if not matches(spec.get("selector") or {}, pod_labels):
        err(f"{where}: spec.selector does not pick its own pod template's labels")
    containers = (template.get("spec") or {}).get("containers") or []
    if not containers:
        err(f"{where}: no containers")
        continue
    main_ports = set()
    for c in containers:
        cwhere = f"{where}, container {c.get('name')}"
        args = c.get("args") or c.get("command") or []
        binary = args[0] if args else None
        if binary != name:
            err(f"{cwhere}: args[0] is {binary!r}, expected the binary {name!r}")
        elif binary not in binaries:
            err(f"{cwhere}: {binary!r} is not a binary of this workspace ({sorted(binaries)})")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        env = {}
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = e["value"]
        listen = env.get("GRPC_ADDR") or env.get("HTTP_ADDR")
        main_port = port_of(listen)
        admin_port = port_of(env.get("ADMIN_ADDR"))
        if main_port is None:
            err(f"{cwhere}: neither GRPC_ADDR nor HTTP_ADDR names a port")
        elif main_port not in ports.values():
            err(f"{cwhere}: listens on {main_port}, which is not a containerPort")
        else:
            main_ports.add(main_port)
        if admin_port is None:
            err(f"{cwhere}: ADMIN_ADDR names no port")
        else:
            if main_port is not None and admin_port != main_port + 1000:
                err(f"{cwhere}: admin port {admin_port} is not the main port {main_port} + 1000")
            if admin_port not in ports.values():
                err(f"{cwhere}: admin port {admin_port} is not a containerPort")

        def probe_ok(kind, path):
            probe = c.get(kind)
            if not probe:
                err(f"{cwhere}: no {kind}")
                return
            get = probe.get("httpGet")
            if not get:
                err(f"{cwhere}: {kind} is not an httpGet probe")
                return
            if get.get("path") != path:
                err(f"{cwhere}: {kind} asks {get.get('path')!r}, expected {path!r}")
            port = get.get("port")
            number = ports.get(port) if isinstance(port, str) else port
            if number is None or number != admin_port:
                err(f"{cwhere}: {kind} is on port {port!r}, not the admin port {admin_port}")

        probe_ok("livenessProbe", "/healthz")
        probe_ok("readinessProbe", "/readyz")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if not (res.get(part) or {}).get(what):
                    err(f"{cwhere}: no resources.{part}.{what}")

        # ConfigMaps and Secrets it reads exist; $(VAR) references resolve.
        defined = set()
        for src in c.get("envFrom") or []:
            for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if ref in src:
                    key = (kind, src[ref].get("name"))
                    if key not in config_keys:
                        err(f"{cwhere}: envFrom names {kind} {key[1]}, not in the manifests")
                    else:
                        defined |= config_keys[key]
        for e in c.get("env") or []:
            for kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                sel = (e.get("valueFrom") or {}).get(ref)
                if sel and (kind, sel.get("name")) not in config_keys:
                    err(f"{cwhere}: env {e['name']} reads {kind} {sel.get('name')}, not in the manifests")
            for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(e.get("value", ""))):
                if var not in defined:
                    err(f"{cwhere}: env {e['name']} uses $({var}), defined by nothing before it")
            defined.add(e["name"])

    # The Service, the autoscaler and the disruption budget that go with it.
    services = [d for f, d in of_kind("Service") if d["metadata"]["name"] == name]
    if not services:
        err(f"{where}: no Service named {name}")
    for svc in services:
        sspec = svc.get("spec") or {}
        if not matches(sspec.get("selector") or {}, pod_labels):
            err(f"{where}: Service {name}'s selector does not pick its pods")
        exposed = set()
        for p in sspec.get("ports") or []:
            target = p.get("targetPort", p.get("port"))
            if isinstance(target, str):
                target = next(
                    (q.get("containerPort") for c in containers for q in c.get("ports") or [] if q.get("name") == target),
                    None,
                )
            exposed.add(target)
        for mp in sorted(main_ports - exposed):
            err(f"{where}: Service {name} does not expose port {mp}")
    hpas = [
        d for f, d in of_kind("HorizontalPodAutoscaler")
        if (d.get("spec") or {}).get("scaleTargetRef", {}).get("kind") == "Deployment"
        and d["spec"]["scaleTargetRef"].get("name") == name
    ]
    if not hpas:
        err(f"{where}: no HorizontalPodAutoscaler targets it")
    for hpa in hpas:
        hspec = hpa["spec"]
        if not any((m.get("resource") or {}).get("name") == "cpu" for m in hspec.get("metrics") or []):
            err(f"{where}: its HorizontalPodAutoscaler has no cpu metric")
        if (hspec.get("minReplicas") or 1) < 2:
            err(f"{where}: its HorizontalPodAutoscaler allows fewer than 2 replicas (a drain would stop it)")
        if (hspec.get("maxReplicas") or 0) < (hspec.get("minReplicas") or 1):
            err(f"{where}: its HorizontalPodAutoscaler has maxReplicas < minReplicas")
    pdbs = [d for f, d in of_kind("PodDisruptionBudget") if matches((d.get("spec") or {}).get("selector") or {}, pod_labels)]
    if not pdbs:
        err(f"{where}: no PodDisruptionBudget selects its pods")
    for pdb in pdbs:
        pspec = pdb["spec"]
        if "minAvailable" not in pspec and "maxUnavailable" not in pspec:
            err(f"{where}: PodDisruptionBudget {pdb['metadata']['name']} sets neither minAvailable nor maxUnavailable")

# --- 4. Nothing public but through an Ingress; the signing key stays put. ---
for fname, svc in of_kind("Service"):
    sspec = svc.get("spec") or {}
    kind = sspec.get("type", "ClusterIP")
    if kind != "ClusterIP" or sspec.get("externalIPs"):
        err(f"{fname}: Service {svc['metadata']['name']} is {kind}"
            f"{' with externalIPs' if sspec.get('externalIPs') else ''}; every Service is "
            "ClusterIP (gRPC and admin ports stay inside the cluster; expose the gateway "
            "and the petition webhook through an Ingress)")
holding_private = {n for (k, n), keys in config_keys.items() if "ZF_JWT_PRIVATE_KEY" in keys}
for fname, dep in deployments:
    name = dep["metadata"]["name"]
    pod = (dep.get("spec") or {}).get("template", {}).get("spec") or {}
    if pod.get("hostNetwork"):
        err(f"{fname}: Deployment {name} uses the host network")
    for c in pod.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                err(f"{fname}: Deployment {name} publishes hostPort {p['hostPort']}")
        reads_private = any(
            e.get("name") == "ZF_JWT_PRIVATE_KEY" for e in c.get("env") or []
        ) or any(
            (src.get("secretRef") or {}).get("name") in holding_private
            for src in c.get("envFrom") or []
        )
        if reads_private and name != "gateway":
            err(f"{fname}: Deployment {name} gets ZF_JWT_PRIVATE_KEY; only the gateway signs tokens")
        if any(e.get("name") == "ZF_DEV_MODE" for e in c.get("env") or []):
            err(f"{fname}: Deployment {name} sets ZF_DEV_MODE (published development keys)")

if errors:
    for e in errors:
        print(f"  - {e}", file=sys.stderr)
    sys.exit(f"{folder}: {len(errors)} problem(s)")
print(f"{folder}: {len(files)} files, {len(docs)} resources, {len(deployments)} Deployments: all checks pass")
PY

if command -v kubernetes-validate >/dev/null 2>&1; then
  manifests=()
  for f in "$dir"/*.yaml "$dir"/*.yml; do
    [ -e "$f" ] || continue
    case $(basename "$f") in kustomization.y*ml) continue ;; esac
    manifests+=("$f")
  done
  kubernetes-validate --strict --quiet "${manifests[@]}" ||
    die "kubernetes-validate rejects resources in $dir"
  log "kubernetes-validate --strict: every resource matches the API schemas"
else
  log "no kubernetes-validate here: skipped the API-schema check (pip install kubernetes-validate)"
fi

if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize "$dir" >/dev/null || die "kubectl kustomize cannot build $dir"
  log "kubectl kustomize: $dir builds"
else
  log "no kubectl here: skipped 'kubectl kustomize'"
fi
