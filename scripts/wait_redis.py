"""Wait (up to 30 s) until Redis answers PING, so that processes which need it at start can start."""

from __future__ import annotations

import sys
import time

from shared.connection import UNAVAILABLE, connect
from shared.settings import Settings


def main() -> int:
    """Exit 0 once Redis answers, 1 after 30 s."""
    settings = Settings.from_env()
    client = connect(settings)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.ping()
            return 0
        except UNAVAILABLE:
            time.sleep(0.1)
    print(f"Redis did not answer within 30 s ({settings.redis_url})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
