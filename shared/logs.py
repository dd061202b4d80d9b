"""Logging set-up for fila's processes: one line per event on stdout."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str = "INFO") -> None:
    """Send log lines to stdout at `level` (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_fila", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._fila = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
