"""Handlers that misbehave on purpose, for the worker tests (HANDLER=tests.support.handlers:...)."""

from __future__ import annotations

import os

from shared.core.settings import Settings
from shared.messages.handlers import analyse


def poison(body, settings: Settings):
    """Raise for {"poison": "raise"}, kill the process for {"poison": "exit"}, else analyse."""
    if isinstance(body, dict) and body.get("poison") == "raise":
        raise RuntimeError("poison message")
    if isinstance(body, dict) and body.get("poison") == "exit":
        os._exit(17)
    return analyse(body, settings)
