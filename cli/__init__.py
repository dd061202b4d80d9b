"""`fila`: one command for everything fila runs.

    fila run                 the whole system on this machine (what `make run` does)
    fila worker [options]    one message worker (also `python -m worker`)
    fila load dados.csv      a chave,valor CSV into Redis through /api/bulk
    fila health KIND         exit 0 when a service is healthy (container healthchecks)
    fila redis serve|wait    run a private redis-server, or wait for Redis to answer
    fila token create --ttl 3600   a temporary API token (also: list, revoke ID)
    fila schedule add NAME --every 30s --body '{...}'   a periodic message (also --cron, list, remove)
    fila dead groups         the dead letters grouped by error (also: requeue GROUP, delete GROUP --yes)
    fila explain ID          what happened to one message, step by step, with the Redis commands it used
    fila prove kill-worker   the delivery guarantee shown: a worker killed mid-batch, lost and duplicated counted
    fila init                a .env for docker compose, every password random (make env)

Run by hand, `fila token`, `fila schedule` and `fila worker` use REDIS_URL, or else the Redis of the `make run`
alive now (var/run.json); they say which, and never guess one.

Each command's own --help says more.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module with a `main(argv) -> int`, one line of help)
COMMANDS = {
    "run": ("cli.run", "run Redis, the web app, workers, the RQ worker and the dashboards here"),
    "worker": ("worker.__main__", "run one message worker"),
    "load": ("cli.load", "load a chave,valor CSV through /api/bulk"),
    "health": ("cli.health", "check a service for a container healthcheck"),
    "redis": ("cli.redis", "run a private redis-server, or wait until Redis answers"),
    "token": ("cli.token", "create, list or revoke temporary API tokens"),
    "schedule": ("cli.schedule", "add, list or remove periodic messages"),
    "dead": ("cli.dead", "list the dead letters by error, requeue or delete a group"),
    "explain": ("cli.explain", "what happened to one message, step by step, with its Redis commands"),
    "prove": ("cli.prove", "kill a worker mid-batch and count what was lost or ran twice (ALLOW_EXPERIMENTS=1)"),
    "init": ("cli.env_file", "write a .env for docker compose with random passwords (make env)"),
}


def usage() -> str:
    """Return the list of commands."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "usage: fila COMMAND [ARGS...]\n\ncommands:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run `fila COMMAND ARGS...` and return its exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"fila: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    code: int = module.main(rest)
    return code
