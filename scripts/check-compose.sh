#!/usr/bin/env bash
# Validates docker-compose.yml: with `docker compose config` where a Docker
# engine answers, and always by parsing it and checking that every Zoufang
# service it names is a binary of this workspace on its conventional port.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker compose config -q
  log "docker compose config: valid"
fi
python3 - <<'PY'
import json, pathlib, re, sys

def load_yaml(text):
    try:
        import yaml  # PyYAML, when installed
        return yaml.safe_load(text)
    except ImportError:
        pass
    # A minimal reader for the subset this compose file uses is not worth
    # its bugs: fall back to pip, which this machine's registries reach.
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyyaml"], check=True)
    import yaml
    return yaml.safe_load(text)

compose = load_yaml(pathlib.Path("docker-compose.yml").read_text())
services = compose.get("services") or {}
conventions = {"registry": 50051, "issues": 50052, "supervision": 50053,
               "notify": 50054, "petition": 50055, "gateway": 8080}
binaries = set()
for manifest in pathlib.Path("services").glob("*/Cargo.toml"):
    text = manifest.read_text()
    binaries.update(re.findall(r'\[\[bin\]\]\s*name\s*=\s*"([^"]+)"', text))
errors = []
for name, svc in services.items():
    if "image" not in svc and "build" not in svc:
        errors.append(f"{name}: neither image nor build")
    for dep in (svc.get("depends_on") or {}):
        if dep not in services:
            errors.append(f"{name}: depends on unknown service {dep}")
    if name in conventions:
        command = svc.get("command") or []
        binary = command[0] if isinstance(command, list) and command else str(command).split()[0] if command else ""
        if binary not in binaries:
            errors.append(f"{name}: command {binary!r} is not a binary of the workspace ({sorted(binaries)})")
        port = conventions[name]
        published = [str(p).split(":")[-1] for p in svc.get("ports", [])]
        if str(port) not in published:
            errors.append(f"{name}: port {port} is not published")
        env = svc.get("environment") or {}
        addr = env.get("HTTP_ADDR" if name == "gateway" else "GRPC_ADDR", "")
        if not addr.endswith(f":{port}"):
            errors.append(f"{name}: listen address {addr!r} is not on port {port}")
        if env.get("ADMIN_ADDR", "").split(":")[-1] != str(port + 1000):
            errors.append(f"{name}: ADMIN_ADDR should use port {port + 1000}")
for e in errors:
    print("docker-compose.yml:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"docker-compose.yml: {len(services)} services checked")
PY
