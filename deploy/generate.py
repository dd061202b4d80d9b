"""Write the files fila generates from their one source, or check that they are current.

    python deploy/generate.py          # rewrite them (make generated)
    python deploy/generate.py --check  # exit 1, naming each stale file (a test runs it)

- deploy/stack.yaml, the Swarm stack file, from compose.yaml;
- deploy/kubernetes/redis-start.yaml, the ConfigMap that holds deploy/redis/redis-start.sh for the
  Redis StatefulSet (kustomize reads no file outside its directory).

`docker stack deploy` reads a narrower format than Compose: no top-level `name`, no `build`,
`depends_on` only as a list (Swarm ignores it anyway), no `profiles`, and `restart` is ignored.
On a Swarm the routing mesh publishes a port on every node, so only the web app stays on it:
Redis is not published at all and uses DNS round robin (one stateful replica gains nothing from
a virtual IP), and the dashboards publish in host mode, on the node that runs them.
Variables (`${REDIS_PASSWORD:?...}`) are kept for `docker stack deploy` to fill in, and file
paths (configs) are made relative to deploy/, where the stack file lives.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
STACK = ROOT / "deploy" / "stack.yaml"
REDIS_START = ROOT / "deploy" / "redis" / "redis-start.sh"
REDIS_START_CONFIGMAP = ROOT / "deploy" / "kubernetes" / "redis-start.yaml"
#: Keys of a service that `docker stack deploy` refuses or ignores.
DROPPED = ("build", "depends_on", "restart", "profiles")
#: Services reached only from inside the stack, or from the node that runs them.
HOST_MODE = ("dashboard", "redis-commander", "prometheus")
HEADER = """\
# GENERATED from compose.yaml by `python deploy/generate.py` (make generated): edit compose.yaml, then
# regenerate (tests/test_generated.py fails when this file is out of date).
#
#   set -a; . ./.env; set +a          # docker stack deploy does not read .env
#   docker stack deploy -c deploy/stack.yaml fila
#   docker service scale fila_worker=4
"""


class _Dumper(yaml.SafeDumper):
    """Dump without anchors (every service spelled out) and with readable block style."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text_block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Write multi-line text (a script) as a literal block, as a person would."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text_block)


def _fields(port: str) -> list[str]:
    """Split `HOST:PUBLISHED:TARGET` on the colons outside `${...}`."""
    return re.findall(r"(?:\$\{[^}]*\}|[^:$])+", str(port))


def _host_mode(ports: list[str]) -> list[dict]:
    """Turn `127.0.0.1:${PORT:-9181}:9181` into a host-mode port published on the task's node.

    `docker stack deploy` wants an integer there, not a variable: the container's port is used.
    """
    out = []
    for port in ports:
        target = int(_fields(port)[-1])
        out.append({"target": target, "published": target, "protocol": "tcp", "mode": "host"})
    return out


def stack(compose: dict) -> dict:
    """Return the stack file for a compose file (as loaded, variables not interpolated)."""
    services = {}
    for name, service in compose["services"].items():
        if "profiles" in service:
            continue  # optional extras (monitoring, ha): compose only
        service = {key: value for key, value in service.items() if key not in DROPPED}
        deploy = dict(service.get("deploy", {}))
        if name == "redis":
            service.pop("ports", None)
            deploy["endpoint_mode"] = "dnsrr"
        elif name == "web":
            # The routing mesh publishes on every node's every address: no 127.0.0.1 there.
            service["ports"] = [":".join(_fields(port)[-2:]) for port in service["ports"]]
        elif name in HOST_MODE and "ports" in service:
            service["ports"] = _host_mode(service["ports"])
        service["deploy"] = deploy
        services[name] = service
    used = {str(mount).split(":", 1)[0] for service in services.values() for mount in service.get("volumes", [])}
    configs = {source["source"] for service in services.values() for source in service.get("configs", [])}
    out: dict[str, Any] = {"services": services,
                           "volumes": {k: v for k, v in compose.get("volumes", {}).items() if k in used}}
    if configs:
        out["configs"] = {name: {"file": "./" + str(Path(spec["file"]).relative_to("deploy"))}
                          for name, spec in compose.get("configs", {}).items() if name in configs}
    return out


def render_stack() -> str:
    """Return the text of deploy/stack.yaml."""
    compose = yaml.safe_load(COMPOSE.read_text())
    body = yaml.dump(stack(compose), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return HEADER + body


def render_redis_start_configmap() -> str:
    """Return the ConfigMap that carries deploy/redis/redis-start.sh to the Redis StatefulSet."""
    config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "fila-redis-start", "namespace": "fila",
                               "labels": {"app.kubernetes.io/part-of": "fila"}},
                  "data": {"redis-start.sh": REDIS_START.read_text()}}
    return ("# GENERATED from deploy/redis/redis-start.sh by `python deploy/generate.py` (make generated).\n"
            + yaml.dump(config_map, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120))


#: Every generated file and how to write it.
GENERATED = {STACK: render_stack, REDIS_START_CONFIGMAP: render_redis_start_configmap}


def stale() -> list[Path]:
    """Return the generated files that differ from what their sources give now."""
    return [path for path, render in GENERATED.items() if not path.exists() or path.read_text() != render()]


def main(argv: list[str]) -> int:
    """Write the generated files, or with --check name those that are out of date."""
    if "--check" in argv:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path.relative_to(ROOT)} is out of date: run make generated (python deploy/generate.py)")
        return 1 if out_of_date else 0
    for path, render in GENERATED.items():
        path.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
