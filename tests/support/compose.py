"""Read compose.yaml as Compose would: .env.example values, ${VAR:-default} interpolation, anchors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from tests.support.processes import ROOT

_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=value lines (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Apply Compose's interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = variables.get(name)
        if op in (":-", "-"):
            return value if value or (op == "-" and value is not None) else arg
        if op in (":?", "?"):
            if not value:
                raise KeyError(f"{name}: {arg}")
            return value
        return value or ""

    return _VARIABLE.sub(replace, text)


def load(variables: Mapping[str, str] | None = None) -> dict:
    """Return compose.yaml interpolated with .env.example (and `variables` on top), anchors merged."""
    values = {**read_env_file(ROOT / ".env.example"), **(variables or {})}
    return yaml.safe_load(interpolate((ROOT / "compose.yaml").read_text(), values))


def service_env(service: dict) -> dict[str, str]:
    """Return a service's environment as a dict of strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}
