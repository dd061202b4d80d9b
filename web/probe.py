"""`python -m web.probe URL [--dashboard]`: exit 0 when URL answers 2xx, for container healthchecks.

With --dashboard it sends rq-dashboard's basic-auth credentials (RQ_DASHBOARD_USERNAME and
RQ_DASHBOARD_PASSWORD), so the check goes through the dashboard to Redis and back.
"""

from __future__ import annotations

import argparse
import base64
import sys
import urllib.error
import urllib.request

from shared.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Probe the URL once."""
    parser = argparse.ArgumentParser(prog="python -m web.probe", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--dashboard", action="store_true", help="authenticate as rq-dashboard's user")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    request = urllib.request.Request(args.url)
    if args.dashboard:
        settings = Settings.from_env()
        pair = f"{settings.dashboard_username}:{settings.dashboard_password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as reply:
            print(f"healthy: {args.url} answered {reply.status}")
            return 0
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {args.url}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
