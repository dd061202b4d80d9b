"""The file `fila run` keeps under var/ while it runs, naming the Redis it uses, so that every tool finds it.

`var/run.json` holds `{"redis_url": ..., "pid": ...}` (readable by its owner only: the URL may
carry a password) and goes away when `fila run` stops. A tool run by hand (`fila token`,
`fila worker`, the lab's scripts) takes REDIS_URL from the environment first, then from this
file while its `fila run` is alive, and otherwise stops with a message instead of guessing
localhost:6379, which may be another Redis altogether.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from shared.core.settings import Settings

#: Where `fila run` keeps its data unless told otherwise (`--var`).
DEFAULT_VAR = Path(__file__).resolve().parents[2] / "var"
NAME = "run.json"


class NoRedis(RuntimeError):
    """Neither REDIS_URL nor a running `fila run` says which Redis to use."""


def write(var: Path, redis_url: str) -> Path:
    """Record the Redis this `fila run` uses (private to its owner)."""
    var.mkdir(parents=True, exist_ok=True)
    path = var / NAME
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"redis_url": redis_url, "pid": os.getpid()}, file)
    return path


def remove(var: Path) -> None:
    """Forget the Redis once `fila run` stops (only the file this process wrote)."""
    path = var / NAME
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def var_dir(settings: Settings) -> Path:
    """Return where `fila run` keeps its data (FILA_VAR, or the project's var/)."""
    return Path(settings.var_dir).resolve() if settings.var_dir else DEFAULT_VAR


def running_url(var: Path = DEFAULT_VAR) -> str | None:
    """Return the REDIS_URL of the `fila run` alive now, or None."""
    try:
        recorded = json.loads((var / NAME).read_text())
        os.kill(int(recorded["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = recorded.get("redis_url")
    return url if isinstance(url, str) else None


def shown(url: str) -> str:
    """Return the URL with its password hidden, to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def tool_settings(environ: dict[str, str] | None = None) -> tuple[Settings, str]:
    """Return a hand-run tool's settings and where its Redis came from; raise NoRedis when nothing says."""
    env = dict(os.environ if environ is None else environ)
    settings = Settings.from_env(env)
    if "REDIS_URL" in env:
        return settings, "REDIS_URL"
    var = var_dir(settings)
    url = running_url(var)
    if url is None:
        raise NoRedis(explain_missing(settings.language))
    env["REDIS_URL"] = url
    return Settings.from_env(env), str(var / NAME)


def settings_for_tool() -> Settings:
    """Return a hand-run command's settings, having said which Redis it uses; exit 1 saying why when none is known."""
    try:
        settings, source = tool_settings()
    except NoRedis as missing:
        print(missing, file=sys.stderr)
        raise SystemExit(1) from None
    print(announce(settings, source), file=sys.stderr)
    return settings


def explain_missing(language: str) -> str:
    """Say, in the tool's language, why no Redis was chosen and what to do."""
    if language == "en":
        return ("no fila Redis found: start `make run` (or `make dev`) in another terminal, or set REDIS_URL; "
                "localhost:6379 is not assumed, it may be another Redis")
    return ("nenhum Redis do fila encontrado: rode `make run` (ou `make dev`) em outro terminal, ou defina "
            "REDIS_URL; o localhost:6379 não é usado por palpite, ele pode ser outro Redis")


def announce(settings: Settings, source: str) -> str:
    """Say which Redis a tool uses, and why."""
    if settings.language == "en":
        return f"fila: Redis {shown(settings.redis_url)} (from {source})"
    return f"fila: Redis {shown(settings.redis_url)} (de {source})"
