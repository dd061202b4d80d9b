"""The rules for what users send: key and list names, values, numbers.

`name_problem` and `value_problem` say what is wrong (the bulk loader collects them per line);
`user_key` and `user_value` refuse the request instead, the way views fail.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from flask import g

from shared import keys
from shared.settings import Settings
from web.errors import refuse

_NAME = re.compile(r"[\w.:\-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Problem(NamedTuple):
    """What is wrong with an input: a stable code and the reason."""

    code: str
    reason: str


def name_problem(name: str, settings: Settings, *, writing: bool = False,
                 allow_queue: bool = False) -> Problem | None:
    """Say why `name` is not a usable key or list name (reserved ones only when writing)."""
    if not name:
        return Problem("bad_name", "the name is empty")
    if len(name) > settings.key_max_len:
        return Problem("bad_name", f"the name is longer than {settings.key_max_len} characters")
    if not _NAME.fullmatch(name):
        return Problem("bad_name", "a name may only hold letters, digits and _ . : -")
    if writing and (reason := keys.reserved_reason(name, settings.queue_name, allow_queue=allow_queue)):
        return Problem("reserved_name", reason)
    return None


def value_problem(value: str, settings: Settings) -> Problem | None:
    """Say why `value` cannot be stored, or return None."""
    if value == "":
        return Problem("bad_value", "the value is empty")
    if len(value) > settings.value_max_len:
        return Problem("bad_value", f"the value is longer than {settings.value_max_len} characters")
    if _CONTROL.search(value):
        return Problem("bad_value", "the value holds control characters")
    return None


def user_key(name: str, settings: Settings, *, kind: str, writing: bool = False, allow_queue: bool = False) -> str:
    """Return a key name the request may use, or refuse it (400).

    `kind` (string, list) is what the route expects the key to hold: a WRONGTYPE answer names it.
    """
    problem = name_problem(name, settings, writing=writing, allow_queue=allow_queue)
    if problem:
        refuse(400, problem.code, problem.reason, name=name)
    g.user_key = (name, kind)
    return name


def user_value(value: str, settings: Settings) -> str:
    """Return a value the request may store, or refuse it (400)."""
    problem = value_problem(value, settings)
    if problem:
        refuse(400, problem.code, problem.reason)
    return value
