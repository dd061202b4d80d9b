"""Run redis-server for `make run` and stop it last, so that the others stop warm.

On Ctrl-C honcho signals every process at once; Redis would go first and the workers would
fail to store their last results and to leave the registry. This wrapper keeps redis-server
out of the terminal's signals (its own session) and stops it a moment after the rest.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

GRACE_SECONDS = 2.0


def main(argv: list[str]) -> int:
    """Run `redis-server argv...` until SIGTERM or SIGINT, then stop it after a grace period."""
    server = subprocess.Popen(argv, start_new_session=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    while not stopping and server.poll() is None:
        time.sleep(0.1)
    if server.poll() is None:
        time.sleep(GRACE_SECONDS)
        server.terminate()
    return server.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
