"""Handlers that misbehave on purpose, for the worker tests (HANDLER=tests.support.handlers:...)."""

from __future__ import annotations

import os
import time

from shared.core.settings import Settings
from shared.messages.handlers import analyse


def poison(body, settings: Settings):
    """Raise for {"poison": "raise"}, kill the process for {"poison": "exit"}, else analyse."""
    if isinstance(body, dict) and body.get("poison") == "raise":
        raise RuntimeError("poison message")
    if isinstance(body, dict) and body.get("poison") == "exit":
        os._exit(17)
    return analyse(body, settings)


def attempt_key(body) -> str:
    """Name the list where `recording` notes when each run of this message started."""
    return f"test:attempts:{body['key']}"


def recording(body, settings: Settings):
    """Note the start of each run in Redis (test:attempts:<key>, seconds); then hang forever for {"hang": true},
    sleep {"sleep": s} seconds, fail for {"fail": true}."""
    from shared.core.connection import connect

    connect(settings).rpush(attempt_key(body), repr(time.time()))
    if body.get("hang"):  # a handler that never returns (a socket without a timeout, a lock...)
        while True:
            time.sleep(3600)
    if body.get("sleep"):
        time.sleep(body["sleep"])
    if body.get("fail"):
        raise RuntimeError("downstream is down")
    return analyse(body, settings)
