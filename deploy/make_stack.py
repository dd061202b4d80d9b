"""Write deploy/stack.yaml, the Swarm stack file, from compose.yaml (one source of truth).

    python deploy/make_stack.py          # rewrite deploy/stack.yaml
    python deploy/make_stack.py --check  # exit 1 when deploy/stack.yaml is out of date

`docker stack deploy` reads a narrower format than Compose: no top-level `name`, no `build`,
`depends_on` only as a list (Swarm ignores it anyway), no `profiles`, and `restart` is ignored.
On a Swarm the routing mesh publishes a port on every node, so only the web app stays on it:
Redis is not published at all and uses DNS round robin (one stateful replica gains nothing from
a virtual IP), and the dashboards publish in host mode, on the node that runs them.
Variables (`${REDIS_PASSWORD:?...}`) are kept for `docker stack deploy` to fill in.
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
#: Keys of a service that `docker stack deploy` refuses or ignores.
DROPPED = ("build", "depends_on", "restart", "profiles")
#: Services reached only from inside the stack, or from the node that runs them.
HOST_MODE = ("dashboard", "redis-commander", "prometheus")
HEADER = """\
# GENERATED from compose.yaml by `python deploy/make_stack.py`: edit compose.yaml, then regenerate
# (tests/containers/test_swarm.py fails when this file is out of date).
#
#   set -a; . ./.env; set +a          # docker stack deploy does not read .env
#   docker stack deploy -c deploy/stack.yaml fila
#   docker service scale fila_worker=4
"""


class _Dumper(yaml.SafeDumper):
    """Dump without anchors (every service spelled out) and with readable block style."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


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
    return {"services": services, "volumes": {k: v for k, v in compose.get("volumes", {}).items() if k in used}}


def render() -> str:
    """Return the text of deploy/stack.yaml."""
    compose = yaml.safe_load(COMPOSE.read_text())
    body = yaml.dump(stack(compose), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return HEADER + body


def main(argv: list[str]) -> int:
    """Write the stack file, or with --check say whether it is current."""
    text = render()
    if "--check" in argv:
        if STACK.read_text() != text:
            print("deploy/stack.yaml is out of date: run python deploy/make_stack.py")
            return 1
        return 0
    STACK.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
