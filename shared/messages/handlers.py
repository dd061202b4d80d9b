"""Message handlers: plain functions `handler(body, settings) -> result`, chosen by the HANDLER setting."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from shared.core.settings import Settings

Handler = Callable[[Any, Settings], Any]
log = logging.getLogger(__name__)


def analyse(body: Any, settings: Settings) -> dict[str, Any]:
    """Count words and characters, upper-case and hash the body's text.

    A body that is an object with a numeric `work_ms` sleeps that long first (capped
    by WORK_MS_MAX), to simulate slow work and make scaling visible.
    """
    if isinstance(body, dict):
        work_ms = body.get("work_ms")
        if isinstance(work_ms, (int, float)) and not isinstance(work_ms, bool) and work_ms > 0:
            time.sleep(min(float(work_ms), settings.work_ms_max) / 1000.0)
        given = body.get("text")
        text = given if isinstance(given, str) else json.dumps(body, ensure_ascii=False)
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, ensure_ascii=False)
    return {
        "words": len(text.split()),
        "chars": len(text),
        "upper": text.upper()[:200],
        "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
    }


def explain(result: Any, language: str = "pt-BR") -> str | None:
    """Say in words what `analyse` computed (None for another handler's result)."""
    if not isinstance(result, dict) or not {"words", "chars", "sha256"} <= result.keys():
        return None
    words, chars, digest = result["words"], result["chars"], str(result["sha256"])[:12]
    if language == "en":
        return (f"the worker counted {words} word(s) and {chars} character(s), upper-cased the text and took its "
                f"SHA-256 fingerprint ({digest}…)")
    return (f"o worker contou {words} palavra(s) e {chars} caractere(s), passou o texto para maiúsculas e calculou "
            f"a impressão digital SHA-256 ({digest}…)")


#: Handlers' former paths (before shared/ was grouped by domain), still read for one release.
MOVED = {"shared.handlers:analyse": "shared.messages.handlers:analyse"}


def load(path: str) -> Handler:
    """Import a handler named `module:function` (or `module.function`)."""
    if path in MOVED:
        log.warning("HANDLER=%s has moved: read as %s (the old name goes in the next release)", path, MOVED[path])
        path = MOVED[path]
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"HANDLER must look like 'module:function', got {path!r}")
    handler = getattr(importlib.import_module(module_name), attr)
    if not callable(handler):
        raise ValueError(f"HANDLER {path!r} is not callable")
    return cast(Handler, handler)
