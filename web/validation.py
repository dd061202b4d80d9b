"""Checks for the names and values users send: each returns the reason it fails, or None."""

from __future__ import annotations

import re

from shared import keys
from shared.settings import Settings

_NAME = re.compile(r"[\w.:\-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def name_problem(name: str, settings: Settings, *, writing: bool = False, allow_queue: bool = False) -> str | None:
    """Say why `name` is not a usable key or list name (reserved ones only when writing)."""
    if not name:
        return "the name is empty"
    if len(name) > settings.key_max_len:
        return f"the name is longer than {settings.key_max_len} characters"
    if not _NAME.fullmatch(name):
        return "a name may only hold letters, digits and _ . : -"
    if writing:
        return keys.reserved_reason(name, settings.queue, allow_queue=allow_queue)
    return None


def value_problem(value: str, settings: Settings) -> str | None:
    """Say why `value` cannot be stored, or return None."""
    if value == "":
        return "the value is empty"
    if len(value) > settings.value_max_len:
        return f"the value is longer than {settings.value_max_len} characters"
    if _CONTROL.search(value):
        return "the value holds control characters"
    return None
