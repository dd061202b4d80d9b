"""`fila run` (`make run`): the whole system on this machine, like `docker compose up`, under honcho.

Starts a private redis-server under var/ unless REDIS_URL is set, then the web app on
WEB_PORT and WEB_ALT_PORT (5000 and 8500, the handout uses both), WORKERS message workers,
one RQ worker, rq-dashboard, and Redis Commander when Node is present. Every line is
prefixed with its process. Ctrl-C stops everything, Redis last, and exits 0. While it runs,
var/run.json names its Redis, so that `fila token`, `fila worker` and the lab's scripts use
that one (shared/core/run_file.py).

`--dev` (`make dev`) is the same with reloading, for the lab: the web loads lab/app.py again
when a file of lab/ changes (in place, no request refused), restarts when web/ or shared/ do,
lab/worker.py runs (again at each change), and a lab route that fails shows its file, line and
error on the page (FILA_DEV).

Settings come from the environment and from `.env` (the file compose reads), the shell
winning as it does in compose; honcho is handed an empty env file so that it cannot put
`.env` back over the shell.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from honcho.environ import parse as parse_env_file

from cli.redis import find_redis_server
from shared.core import run_file
from shared.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
#: Where Redis Commander is installed from npm (shared by every run: it is a tool, not data).
COMMANDER_HOME = ROOT / "var" / "commander"
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
    binary = COMMANDER_HOME / "node_modules/.bin/redis-commander"
    if binary.exists():
        return binary
    if not shutil.which("npm") or not shutil.which("node"):
        return None
    print(f"installing redis-commander@{COMMANDER_VERSION} from npm into var/commander ...", flush=True)
    result = subprocess.run(["npm", "install", "--prefix", str(COMMANDER_HOME), "--no-audit", "--no-fund",
                             f"redis-commander@{COMMANDER_VERSION}"], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"could not install redis-commander: {result.stderr.strip()[-500:]}")
        return None
    return binary if binary.exists() else None


def granian(settings: Settings, port: int, workers: int, watched: list[Path] | None = None) -> str:
    """Return the command that serves the web app on 127.0.0.1:port.

    With `watched` (make dev), granian restarts when fila's own files change, and the app reloads
    the lab's in place (web/lab.py's Reloading: no gap while a student saves).
    """
    factory = "web:create_dev_app" if watched else "web:create_app"
    command = (f"{_bin('granian')} --interface wsgi --host 127.0.0.1 --port {port} --workers {workers} "
               f"--blocking-threads {settings.web_threads} --respawn-failed-workers --no-ws --factory {factory}")
    if watched:
        paths = " ".join(f"--reload-paths {shlex.quote(str(path))}" for path in watched)
        command += f" --reload {paths} --reload-ignore-worker-failure"
    return command


def _bin(name: str) -> str:
    return shlex.quote(str(Path(sys.executable).parent / name))


def commander_config(var: Path) -> Path:
    """Give this run's Redis Commander a config folder of its own: the package's defaults, no saved connections.

    Redis Commander saves every connection it is started with into its config folder and
    reconnects to all of them at the next start; `fila run` picks a new Redis port when 6379 is
    taken, so the list would grow with every run, each stale entry logging errors every second.
    """
    source = COMMANDER_HOME / "node_modules/redis-commander/config"
    target = var / "commander-config"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for file in source.glob("*.json"):
        if not file.name.startswith("local"):
            shutil.copy(file, target / file.name)
    return target


def commander_args(settings: Settings, redis_url: str) -> list[str]:
    """Return Redis Commander's options for the Redis at `redis_url` (only that one, never saved)."""
    target = urlsplit(redis_url)
    args = ["--nosave", "--address", "127.0.0.1", "--port", str(settings.commander_port), "--redis-host",
            target.hostname or "127.0.0.1", "--redis-port", str(target.port or 6379), "--redis-db",
            (target.path or "/0").strip("/") or "0"]
    if target.password:
        args += ["--redis-password", target.password]
    return args


def lab_dir(settings: Settings) -> Path:
    """Return the folder of the student's code (LAB_DIR, or lab/)."""
    return Path(settings.lab_dir) if settings.lab_dir else ROOT / "lab"


def procfile(settings: Settings, redis_port: int | None, redis_url: str, commander: Path | None, var: Path,
             dev: bool = False) -> str:
    """Return the Procfile honcho runs: one line per process, Redis first when it is fila's own."""
    python = shlex.quote(sys.executable)
    wait = f"{python} -m cli redis wait && exec"
    watched = [ROOT / "web", ROOT / "shared"] if dev else None
    lines = {}
    if redis_port is not None:
        lines["redis"] = (f"exec {python} -m cli redis serve --port {redis_port} --bind 127.0.0.1 "
                          f"--dir {shlex.quote(str(var / 'redis'))} --appendonly yes "
                          f"--appendfsync {settings.redis_appendfsync} --save '' --protected-mode yes")
    lines["web"] = f"{wait} {granian(settings, settings.web_port, settings.web_workers, watched)}"
    lines["web8500"] = f"{wait} {granian(settings, settings.web_alt_port, 1, watched)}"
    lines["worker"] = f"exec {python} -m worker"
    if len(settings.queue_names) > 1 and not settings.worker_queues:  # QUEUES=fila,alta make run: serve them all
        lines["worker"] += f" --queues {shlex.quote(','.join(settings.queue_names))}"
    if dev:  # the handout's loop, run again whenever the student saves a file of the lab
        folder = lab_dir(settings)
        target = shlex.quote(f"{sys.executable} {folder / 'worker.py'}")
        lines["labworker"] = (f"{wait} {_bin('watchfiles')} --filter python --target-type command --verbosity warning "
                              f"{target} {shlex.quote(str(folder))}")
    lines["rqworker"] = f"{wait} {_bin('rq')} worker -c shared.jobs.rq_config --with-scheduler --serializer json"
    lines["dashboard"] = (f"{wait} {_bin('rq-dashboard')} --bind 127.0.0.1 --port {settings.dashboard_port} "
                          f"--redis-url {shlex.quote(redis_url)} --json --disable-delete")
    if commander is not None:
        args = " ".join(shlex.quote(a) for a in commander_args(settings, redis_url))
        lines["commander"] = f"{wait} {shlex.quote(str(commander))} {args}"
    return "".join(f"{name}: {command}\n" for name, command in lines.items())


def environment(env_file: Path) -> dict[str, str]:
    """Return the environment fila runs with: `env_file`'s values, under the shell's (as compose does)."""
    from_file = parse_env_file(env_file.read_text()) if env_file.is_file() else {}
    return {**from_file, **os.environ}


@contextmanager
def foreground(terminal: int | None) -> Iterator[None]:
    """Make this process's own group the terminal's foreground while the block runs.

    Ctrl-C then reaches fila's processes and not `make`, which would otherwise die of the
    SIGINT and report "Error 130" however cleanly fila stopped.
    """
    previous = None
    if terminal is not None:
        with suppress(OSError):
            previous = os.tcgetpgrp(terminal)
            os.setpgid(0, 0)
            _set_foreground(terminal, os.getpgrp())
    try:
        yield
    finally:
        if previous is not None:
            with suppress(OSError):
                _set_foreground(terminal, previous)  # type: ignore[arg-type]


def _set_foreground(terminal: int, group: int) -> None:
    handler = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not otherwise take it
    try:
        os.tcsetpgrp(terminal, group)
    finally:
        signal.signal(signal.SIGTTOU, handler)


def controlling_terminal() -> int | None:
    """Return a descriptor of this process's controlling terminal, or None."""
    try:
        return os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run honcho until it ends; exit 0 when Ctrl-C (or SIGTERM) stopped it, its own code otherwise."""
    stopping: list[int] = []
    terminal = controlling_terminal()
    with foreground(terminal):
        child = subprocess.Popen(command, env=env)

        def stop(signum: int, _frame: object) -> None:
            stopping.append(signum)
            child.send_signal(signum)  # Ctrl-C reached honcho too; a second stop request does nothing there

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = child.wait()
    if terminal is not None:
        os.close(terminal)
    return 0 if stopping else code


def main(argv: list[str] | None = None) -> int:
    """Prepare the environment and run honcho until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="fila run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--var", type=Path, help="where Redis' data and run.json go (default: FILA_VAR, or var/)")
    parser.add_argument("--dev", action="store_true", help="reload on changes and run the lab's worker (make dev)")
    args = parser.parse_args(argv)
    merged = environment(ROOT / ".env")
    if args.dev:
        merged["FILA_DEV"] = "1"
    if args.var:
        merged["FILA_VAR"] = str(args.var.resolve())
    settings = Settings.from_env(merged)
    var = run_file.var_dir(settings)
    provided = Settings.provided(merged)
    own_redis = "REDIS_URL" not in provided
    env = dict(settings.env())
    ports = {"web": (settings.web_port, "WEB_PORT"), "web, handout's second port": (settings.web_alt_port,
             "WEB_ALT_PORT"), "rq-dashboard": (settings.dashboard_port, "DASHBOARD_PORT")}
    redis_port = None
    if own_redis:
        if find_redis_server() is None:
            print("no redis-server found: install one (apt-get install redis-server) or set REDIS_URL")
            return 1
        redis_port = settings.redis_port
        if not port_free(redis_port) and "REDIS_PORT" not in provided:
            redis_port = next(p for p in range(redis_port + 1, redis_port + 100) if port_free(p))
            print(f"port {settings.redis_port} is taken (another Redis?): fila's own redis-server uses {redis_port}")
        ports["redis"] = (redis_port, "REDIS_PORT")
        (var / "redis").mkdir(parents=True, exist_ok=True)
        env.update(REDIS_PORT=str(redis_port), REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    commander = install_commander()
    if commander:
        ports["redis-commander"] = (settings.commander_port, "COMMANDER_PORT")
        env["NODE_CONFIG_DIR"] = str(commander_config(var))
    else:
        print("Redis Commander needs Node.js and npm (apt-get install nodejs npm); running without it.")
    problems = check_ports(ports)
    if problems:
        print("\n".join(problems))
        return 1
    print(banner(settings, env["REDIS_URL"], redis_port, commander is not None, var, args.dev), flush=True)
    var.mkdir(parents=True, exist_ok=True)
    (var / "Procfile").write_text(procfile(settings, redis_port, env["REDIS_URL"], commander, var, args.dev))
    no_env_file = var / "empty.env"  # honcho would load .env over the shell: give it nothing to load
    no_env_file.write_text("")
    full_env = {**merged, **env, "PYTHONUNBUFFERED": "1"}
    honcho = [str(Path(sys.executable).parent / "honcho"), "start", "-f", str(var / "Procfile"), "-d", str(ROOT),
              "-e", str(no_env_file), "-c", f"worker={settings.workers}"]
    run_file.write(var, env["REDIS_URL"])
    try:
        return supervise(honcho, full_env)
    finally:
        run_file.remove(var)


def banner(settings: Settings, redis_url: str, redis_port: int | None, commander: bool, var: Path,
           dev: bool) -> str:
    """Return what `fila run` prints first: every address, the redis-cli line, how to stop it."""
    english = settings.language == "en"
    web, alt = settings.web_port, settings.web_alt_port
    cli = f"redis-cli -p {redis_port}" if redis_port is not None else f"redis-cli -u {run_file.shown(redis_url)}"
    lines = [f"  web           http://localhost:{web}/  ({'and' if english else 'e'} http://localhost:{alt}/)",
             f"  {'console' if english else 'painel':<13} http://localhost:{web}/painel",
             f"  API           http://localhost:{web}/api/docs",
             f"  rq-dashboard  http://localhost:{settings.dashboard_port}/"]
    if commander:
        lines.append(f"  Redis Cmdr    http://localhost:{settings.commander_port}/")
    data = (f"  (its data in {var / 'redis'})" if english else f"  (dados em {var / 'redis'})") if redis_port else ""
    lines += [f"  redis         {run_file.shown(redis_url)}{data}", f"  redis-cli     {cli}"]
    if dev:
        lines.append(f"  lab           {lab_dir(settings)}/app.py " + (
            "(saved: the web reloads; lab/worker.py runs again)" if english else
            "(ao gravar, o web recarrega; lab/worker.py roda de novo)"))
    if settings.traces_endpoint:
        lines.append(f"  traces        {settings.traces_endpoint}  (OTLP/HTTP, "
                     + (f"{settings.otel_sample_ratio:.0%} of new traces kept)" if english else
                        f"{settings.otel_sample_ratio:.0%} dos novos traces mantidos)"))
    if not settings.admin_password:
        lines.append("  admin         open: no ADMIN_PASSWORD, so /painel and the admin API need no login (fine on "
                     "127.0.0.1; set ADMIN_PASSWORD before exposing anything)" if english else
                     "  admin         aberto: sem ADMIN_PASSWORD, o /painel e a API de admin não pedem login (bom em "
                     "127.0.0.1; defina ADMIN_PASSWORD antes de expor algo)")
    if english:
        return ("fila is starting:\n" + "\n".join(lines) + "\nOpen a second terminal for curl and redis-cli; "
                "Ctrl-C here stops everything.\n")
    return ("o fila está subindo:\n" + "\n".join(lines) + "\nAbra um segundo terminal para o curl e o redis-cli; "
            "Ctrl-C aqui para tudo.\n")

if __name__ == "__main__":
    sys.exit(main())
