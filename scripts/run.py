"""`make run`: the whole system on this machine, like `docker compose up`, with honcho.

Starts a private redis-server under var/ unless REDIS_URL is set, then the web app on
WEB_PORT and WEB_ALT_PORT (5000 and 8500, the handout uses both), WORKERS message workers,
one RQ worker, rq-dashboard, and Redis Commander when Node is present. Every line is
prefixed with its process. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from scripts.redis_binary import find_redis_server
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMMANDER_VERSION = "0.9.0"


def port_free(port: int) -> bool:
    """Tell whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_ports(wanted: dict[str, tuple[int, str]]) -> list[str]:
    """Return one clear line per taken port, saying how to pick another."""
    problems = []
    for name, (port, variable) in wanted.items():
        if not port_free(port):
            problems.append(f"port {port} ({name}) is taken: stop what listens there "
                            f"(ss -ltnp 'sport = :{port}') or pick another, e.g. {variable}={port + 1} make run")
    return problems


def install_commander() -> Path | None:
    """Install Redis Commander (pinned) from npm into var/commander; None when Node is missing."""
    binary = ROOT / "var/commander/node_modules/.bin/redis-commander"
    if binary.exists():
        return binary
    if not shutil.which("npm") or not shutil.which("node"):
        return None
    print(f"installing redis-commander@{COMMANDER_VERSION} from npm into var/commander ...", flush=True)
    result = subprocess.run(["npm", "install", "--prefix", str(ROOT / "var/commander"), "--no-audit", "--no-fund",
                             f"redis-commander@{COMMANDER_VERSION}"], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"could not install redis-commander: {result.stderr.strip()[-500:]}")
        return None
    return binary if binary.exists() else None


def main() -> int:
    """Prepare the environment and hand over to honcho."""
    settings = Settings.from_env()
    own_redis = "REDIS_URL" not in Settings.provided()
    env = dict(settings.env())
    processes = ["web", "web8500", "worker", "rqworker", "dashboard"]
    ports = {"web": (settings.web_port, "WEB_PORT"), "web, handout's second port": (settings.web_alt_port,
             "WEB_ALT_PORT"), "rq-dashboard": (settings.dashboard_port, "DASHBOARD_PORT")}
    if own_redis:
        binary = find_redis_server()
        if binary is None:
            print("no redis-server found: install one (apt-get install redis-server) or set REDIS_URL")
            return 1
        port = settings.redis_port
        if not port_free(port) and "REDIS_PORT" not in Settings.provided():
            port = next(p for p in range(port + 1, port + 100) if port_free(p))
            print(f"port {settings.redis_port} is taken (another Redis?): fila's own redis-server uses {port}")
        ports["redis"] = (port, "REDIS_PORT")
        (ROOT / "var/redis").mkdir(parents=True, exist_ok=True)
        env.update(FILA_REDIS_SERVER=binary, REDIS_PORT=str(port), REDIS_URL=f"redis://127.0.0.1:{port}/0")
        processes.insert(0, "redis")
    commander = install_commander()
    if commander:
        target = urlsplit(env["REDIS_URL"])
        args = ["--address", "127.0.0.1", "--port", str(settings.commander_port), "--redis-host",
                target.hostname or "127.0.0.1", "--redis-port", str(target.port or 6379), "--redis-db",
                (target.path or "/0").strip("/") or "0"]
        if target.password:
            args += ["--redis-password", target.password]
        env["FILA_COMMANDER_ARGS"] = " ".join(args)
        ports["redis-commander"] = (settings.commander_port, "COMMANDER_PORT")
        processes.append("commander")
    else:
        print("Redis Commander needs Node.js and npm (apt-get install nodejs npm); running without it.")
    problems = check_ports(ports)
    if problems:
        print("\n".join(problems))
        return 1
    urls = [f"  web           http://localhost:{settings.web_port}/  (and http://localhost:{settings.web_alt_port}/)",
            f"  live page     http://localhost:{settings.web_port}/painel",
            f"  rq-dashboard  http://localhost:{settings.dashboard_port}/"]
    if commander:
        urls.append(f"  Redis Cmdr    http://localhost:{settings.commander_port}/")
    urls.append(f"  redis         {env['REDIS_URL']}" + ("  (its data in var/redis)" if own_redis else ""))
    print("fila is starting:\n" + "\n".join(urls) + "\nCtrl-C stops everything.\n", flush=True)
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    honcho = [str(Path(sys.executable).parent / "honcho"), "start", "-f", str(ROOT / "Procfile"), "-d", str(ROOT),
              "-c", f"worker={settings.workers}", *processes]
    os.execvpe(honcho[0], honcho, full_env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
