"""The rules for what users send: key and list names, values.

`name_problem` and `value_problem` say what is wrong, in English and in Portuguese (the bulk
loader collects them per line); `user_key` and `user_value` refuse the request instead, the
way views fail.
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
#: Whose keys each reserved prefix holds, in both languages.
_OWNERS = {keys.PREFIX: ("fila's internal keys", "as chaves internas do fila"),
           keys.RQ_PREFIX: ("RQ's keys", "as chaves do RQ"),
           keys.FIB_PREFIX: ("the Fibonacci cache", "o cache de Fibonacci"),
           keys.LIMIT_DEMO_PREFIX: ("the rate-limit demonstration (/limite)", "a demonstração de limite (/limite)")}


class Problem(NamedTuple):
    """What is wrong with an input: a code of web.errors.CODES, the reason in English and in Portuguese."""

    code: str
    reason: str
    pt: str


def _reserved(name: str, owner: str, queue: str) -> Problem:
    if owner == queue:
        return Problem("reserved_name", f"'{name}' is fila's message queue: add to it with /push/{name}/<valor>",
                       f"'{name}' é a fila de mensagens do fila: adicione a ela com /push/{name}/<valor>")
    if owner == keys.HITS:
        return Problem("reserved_name", f"'{name}' is the hit counter of /: choose another name",
                       f"'{name}' é o contador de acessos da rota /: escolha outro nome")
    en, pt = _OWNERS[owner]
    return Problem("reserved_name", f"names starting with '{owner}' are reserved for {en}: choose another name",
                   f"nomes que começam com '{owner}' são reservados para {pt}: escolha outro nome")


def name_problem(name: str, settings: Settings, *, writing: bool = False,
                 allow_queue: bool = False) -> Problem | None:
    """Say why `name` is not a usable key or list name (reserved ones only when writing)."""
    if not name:
        return Problem("bad_name", "the name is empty: put a key name in the URL",
                       "o nome está vazio: coloque um nome de chave na URL")
    if len(name) > settings.key_max_len:
        return Problem("bad_name", f"the name is longer than {settings.key_max_len} characters: use a shorter one",
                       f"o nome tem mais de {settings.key_max_len} caracteres: use um nome mais curto")
    if not _NAME.fullmatch(name):
        return Problem("bad_name", "a name may only hold letters, digits and _ . : - (for example minha_chave)",
                       "um nome só pode ter letras, números e _ . : - (por exemplo minha_chave)")
    owner = keys.reserved_owner(name, settings.queue_name, allow_queue=allow_queue) if writing else None
    return _reserved(name, owner, settings.queue_name) if owner else None


def value_problem(value: str, settings: Settings) -> Problem | None:
    """Say why `value` cannot be stored, or return None."""
    if value == "":
        return Problem("bad_value", "the value is empty: put it after the key", "o valor está vazio: coloque-o "
                       "depois da chave")
    if len(value) > settings.value_max_len:
        return Problem("bad_value", f"the value is longer than {settings.value_max_len} characters: store less",
                       f"o valor tem mais de {settings.value_max_len} caracteres: guarde menos")
    if _CONTROL.search(value):
        return Problem("bad_value", "the value holds control characters: send printable text",
                       "o valor tem caracteres de controle: envie texto imprimível")
    return None


def user_key(name: str, settings: Settings, *, kind: str, writing: bool = False, allow_queue: bool = False) -> str:
    """Return a key name the request may use, or refuse it (400).

    `kind` (string, list) is what the route expects the key to hold: a WRONGTYPE answer names it.
    """
    problem = name_problem(name, settings, writing=writing, allow_queue=allow_queue)
    if problem:
        refuse(400, problem.code, problem.reason, pt=problem.pt, name=name)
    g.user_key = (name, kind)
    return name


def user_value(value: str, settings: Settings) -> str:
    """Return a value the request may store, or refuse it (400)."""
    problem = value_problem(value, settings)
    if problem:
        refuse(400, problem.code, problem.reason, pt=problem.pt)
    return value
