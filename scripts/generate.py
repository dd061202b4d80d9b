"""Write the files fila generates from their one source, or check that they are current.

    python scripts/generate.py          # rewrite them (make generated)
    python scripts/generate.py --check  # exit 1, naming each stale file (make lint, and a test, run it)

- deploy/stack.yaml, the Swarm stack file, from compose.yaml;
- deploy/kubernetes/redis-start.yaml, the ConfigMap that holds deploy/redis/redis-start.sh for the
  Redis StatefulSet (kustomize reads no file outside its directory);
- deploy/kubernetes/config.yaml, the settings' ConfigMap, from shared.core.settings.Settings;
- .env.example, from the settings and cli/env_file.py's COMPOSE_VARIABLES (what compose alone reads);
- docs/configuration.md, the same, as the configuration reference;
- docs/endpoints.md, from the OpenAPI document the app builds from its views.

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
sys.path.insert(0, str(ROOT))

from cli import env_file  # noqa: E402  (the project's root is importable only from here on)
from cli.env_file import ADMIN_VARIABLES, COMPOSE_VARIABLES, Variable  # noqa: E402
from shared.core.settings import Settings  # noqa: E402

COMPOSE = ROOT / "compose.yaml"
STACK = ROOT / "deploy" / "stack.yaml"
REDIS_START = ROOT / "deploy" / "redis" / "redis-start.sh"
REDIS_START_CONFIGMAP = ROOT / "deploy" / "kubernetes" / "redis-start.yaml"
CONFIG_MAP = ROOT / "deploy" / "kubernetes" / "config.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
CONFIGURATION = ROOT / "docs" / "configuration.md"
ENDPOINTS = ROOT / "docs" / "endpoints.md"


#: Set by the high-availability override itself, in the Redis containers (documented, never in .env).
HA_VARIABLES = (
    Variable("REDIS_ANNOUNCE_HOST", "", "the name a Redis gives the Sentinels for itself"),
    Variable("REDIS_REPLICA_OF", "", "the primary a replica follows when no Sentinel answers"),
    Variable("REDIS_SENTINELS", "", "the Sentinels a restarting Redis asks for the current primary"),
)
#: Settings the Kubernetes ConfigMap sets otherwise than their default.
KUBERNETES_VALUES = {"TRUSTED_PROXIES": "1", "QUEUES": "fila,alta"}
#: Setting groups that only `make run` reads (the ConfigMap leaves them out).
RUN_ONLY = {"run"}
GROUP_TITLES = {"redis": "Redis", "queue": "The message queue", "worker": "Message workers",
                "handout": "The handout's routes", "jobs": "Fibonacci jobs (RQ)", "access": "Access",
                "lab": "The lab (`make dev`)", "traces": "Traces (OpenTelemetry)", "logs": "Logs", "run": "`make run`"}
#: Keys of a service that `docker stack deploy` refuses or ignores.
DROPPED = ("build", "depends_on", "restart", "profiles")
#: Services reached only from inside the stack, or from the node that runs them.
HOST_MODE = ("dashboard", "redis-commander", "prometheus")
HEADER = """\
# GENERATED from compose.yaml by `python scripts/generate.py` (make generated): edit compose.yaml, then
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
    return ("# GENERATED from deploy/redis/redis-start.sh by `python scripts/generate.py` (make generated).\n"
            + yaml.dump(config_map, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120))


def _settings() -> list[tuple[str, object, str, bool, str]]:
    """Return (variable, default, help, secret, group) of every setting, in declaration order."""
    from dataclasses import fields

    return [(spec.metadata["env"], spec.default, spec.metadata["help"], spec.metadata["secret"],
             spec.metadata["group"]) for spec in fields(Settings)]


def _value(default: object) -> str:
    """Write a setting's default as the environment holds it."""
    probe = Settings.from_env({})
    return {"True": "1", "False": "0"}.get(str(default), probe.env_value(default))


def compose_names() -> set[str]:
    """Return every variable compose.yaml and the HA override read (by ${...}, or passed on by name)."""
    return env_file.compose_names() | set(passed_on())


#: Settings compose does not pass on: per service (REDIS_URL), required with a message (the admin's
#: secrets), built from a port (the consoles' links), read by `make run` only, or never for containers
#: (development mode shows a failing route's source; the lab's folder is a path on the host).
NOT_PASSED = {"REDIS_URL", "ADMIN_PASSWORD", "SECRET_KEY", "DASHBOARD_URL", "COMMANDER_URL", "RQ_DASHBOARD_USERNAME",
              "RQ_DASHBOARD_PASSWORD", "WORKER_NAME", "FILA_DEV", "LAB_DIR", "QUEUE_<NAME>_<OPTION>", "QUEUES"}
BEGIN, END = "  # GENERATED from shared/core/settings.py", "  # END GENERATED"


def passed_on() -> list[str]:
    """Return the settings compose hands to fila's containers by name (their values from .env, if set there)."""
    return [name for name, _, _, _, group in _settings() if group not in RUN_ONLY and name not in NOT_PASSED]


def render_compose() -> str:
    """Return compose.yaml with its block of passed-on settings (between the markers) current."""
    text = COMPOSE.read_text()
    head, _, rest = text.partition(BEGIN)
    comment, _, tail = rest.partition("\n")
    block, _, after = tail.partition(END)
    names = "".join(f"  {name}:\n" for name in passed_on())
    return f"{head}{BEGIN}{comment}\n{_comment_lines(block)}{names}{END}{after}"


def _comment_lines(block: str) -> str:
    """Keep the comment lines under the marker (the names below them are rewritten)."""
    return "".join(line + "\n" for line in block.splitlines() if line.strip().startswith("#"))


def render_config_map() -> str:
    """Return the ConfigMap of fila's settings (their defaults; passwords are in the fila-secrets Secret)."""
    data = {name: KUBERNETES_VALUES.get(name, _value(default)) for name, default, _, secret, group in _settings()
            if not secret and group not in RUN_ONLY
            and name not in {"REDIS_URL", "WORKER_NAME", "QUEUE_<NAME>_<OPTION>"}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "fila-config", "namespace": "fila"}, "data": data}
    return ("# GENERATED from shared/core/settings.py by `python scripts/generate.py` (make generated): fila's\n"
            "# settings at their defaults (TRUSTED_PROXIES=1: one ingress controller in front of the web; its\n"
            "# client's address is the last hop it adds; QUEUES=fila,alta: worker-alta.yaml serves `alta`).\n"
            "# Passwords are in the fila-secrets Secret.\n"
            + yaml.dump(config_map, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120))


def render_env_example() -> str:
    """Return .env.example: what compose needs set (passwords first), then fila's settings it passes on."""
    used = compose_names()
    lines = ["# GENERATED by `python scripts/generate.py` (make generated): fila's .env for docker compose.",
             "# cp .env.example .env, then change every password (or `make env`: random ones). compose reads .env;",
             "# make run reads the same names from the environment and from .env (the shell wins).", ""]
    for variable in COMPOSE_VARIABLES:
        if variable.name in used:
            lines += [f"# {variable.help}", f"{variable.name}={variable.default}"]
    for variable in ADMIN_VARIABLES:
        lines += [f"# {variable.help}", f"{variable.name}={variable.default}"]
    lines += ["", "# fila's settings, at their defaults: uncomment a line to change it (docs/configuration.md).",
              "# compose passes each one set here to fila's containers."]
    for name, default, help_, _secret, _group in _settings():
        if name in passed_on() or name in {"WEB_PORT", "WEB_ALT_PORT", "DASHBOARD_PORT", "COMMANDER_PORT", "WORKERS"}:
            lines += [f"# {help_}", f"# {name}={_value(default)}"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_configuration() -> str:
    """Return docs/configuration.md: every setting by group, then what compose alone reads."""
    out = ["# Configuration", "",
           "<!-- GENERATED from shared/core/settings.py and scripts/generate.py by `make generated`. -->", "",
           "`shared.core.settings.Settings.from_env()` reads these, and nothing else reads the environment; a bad",
           "value stops the process with the variable's name. Each is declared once, with its default and its",
           "help, in [shared/core/settings.py](../shared/core/settings.py); this page, "
           "[.env.example](../.env.example) and",
           "[deploy/kubernetes/config.yaml](../deploy/kubernetes/config.yaml) are generated from there.", ""]
    groups: dict[str, list[tuple[str, object, str, bool, str]]] = {}
    for setting in _settings():
        groups.setdefault(setting[4], []).append(setting)
    for group, settings in groups.items():
        out += [f"## {GROUP_TITLES[group]}", "", "| variable | default | what |", "|---|---|---|"]
        for name, default, help_, secret, _ in settings:
            shown = "empty" if _value(default) == "" else f"`{_value(default)}`"
            out.append(f"| `{name}` | {shown}{' (a secret)' if secret else ''} | {_cell(help_)} |")
        out.append("")
    out += ["## Compose only", "", "In `.env` beside compose.yaml ([.env.example](../.env.example) has them all); "
            "`make env` writes one with random passwords.", "", "| variable | default | what |", "|---|---|---|"]
    for variable in COMPOSE_VARIABLES:
        shown = "empty" if variable.default == "" else f"`{variable.default}`"
        out.append(f"| `{variable.name}` | {shown} | {_cell(variable.help)} |")
    out += ["", "Set by deploy/ha/compose.ha.yaml in the Redis containers only:", ""]
    out += [f"- `{variable.name}`: {variable.help}" for variable in HA_VARIABLES]
    return "\n".join(out) + "\n"


def render_endpoints() -> str:
    """Return docs/endpoints.md: every operation of the OpenAPI document the app builds, by tag, with its access."""
    from web import create_app
    from web.openapi import METHODS, build

    spec = build(create_app({"SETTINGS": Settings(log_level="WARNING")}))
    tags = [tag["name"] for tag in spec["tags"]]
    rows: dict[str, list[str]] = {tag: [] for tag in tags}
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None or method in {"head", "options"}:
                continue
            access = operation.get("x-access", "open")
            limited = " (limited)" if "429" in operation["responses"] else ""
            rows.setdefault(operation.get("tags", ["other"])[0], []).append(
                f"| `{method.upper()} {path}` | {access}{limited} | {_cell(operation['summary'])} |")
    out = ["# Endpoints", "",
           "<!-- GENERATED from the views' docstrings and policies by `make generated` (scripts/generate.py). -->",
           "", "Every route, its access ([access.md](access.md)) and what it does. The whole contract, each body, "
           "answer and error code, is the OpenAPI 3.1 document at `/openapi.json`, readable at "
           "[`/api/docs`](http://localhost:5000/api/docs).", ""]
    for tag in rows:
        description = next((t.get("description", "") for t in spec["tags"] if t["name"] == tag), "")
        out += [f"## {tag}", "", description, "", "| route | access | what |", "|---|---|---|", *rows[tag], ""]
    return "\n".join(out)


#: Every generated file and how to write it (compose.yaml's block first: the stack file is made from it).
GENERATED = {COMPOSE: render_compose, STACK: render_stack, REDIS_START_CONFIGMAP: render_redis_start_configmap,
             CONFIG_MAP: render_config_map, ENV_EXAMPLE: render_env_example, CONFIGURATION: render_configuration,
             ENDPOINTS: render_endpoints}


def stale() -> list[Path]:
    """Return the generated files that differ from what their sources give now."""
    return [path for path, render in GENERATED.items() if not path.exists() or path.read_text() != render()]


def main(argv: list[str]) -> int:
    """Write the generated files, or with --check name those that are out of date."""
    if "--check" in argv:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path.relative_to(ROOT)} is out of date: run make generated (python scripts/generate.py)")
        return 1 if out_of_date else 0
    for path, render in GENERATED.items():
        path.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
