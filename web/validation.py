"""Everything a request carries is read here: key and list names, values, whole numbers, ids, JSON bodies.

`name_problem` and `value_problem` say what is wrong, in English and in Portuguese (the bulk
loader collects them per line); the other readers refuse the request instead, the way views
fail (web.errors). A whole number is read from at most as many digits as its upper bound has,
so no input reaches Python's 4,300-digit guard; JSON goes through shared.core.codec, which refuses
nesting deeper than DEPTH_MAX, lone surrogates and numbers that do not fit a double.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from flask import g, request

from shared.core import keys
from shared.core.codec import DEPTH_MAX, VALUES_MAX, loads
from shared.core.ids import is_valid
from shared.core.settings import Settings
from shared.messages import idempotency
from web.errors import refuse

_NAME = re.compile(r"[\w.:\-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]+")
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


def _reserved(name: str, owner: str, queues: tuple[str, ...]) -> Problem:
    if owner in queues:
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
    owner = keys.reserved_owner(name, settings.queue_names, allow_queue=allow_queue) if writing else None
    return _reserved(name, owner, settings.queue_names) if owner else None


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


def fila_owns(name: str, settings: Settings) -> bool:
    """Tell whether a key is fila's own (its queue list, or under fila:* or rq:*): not a student's key."""
    return name in settings.queue_names or name.startswith((keys.PREFIX, keys.RQ_PREFIX))


def user_key(name: str, settings: Settings, *, kind: str, writing: bool = False, allow_queue: bool = False) -> str:
    """Return a key name the request may use, or refuse it (400; 401 for fila's own keys without a producer's token).

    `kind` (string, list) is what the route expects the key to hold: a WRONGTYPE answer names it.
    Reading or changing fila's own keys through an open route needs what the producer API needs
    (a token when API_TOKENS_REQUIRED is set): the handout's routes must not be a way around it.
    """
    problem = name_problem(name, settings, writing=writing, allow_queue=allow_queue)
    if problem:
        refuse(400, problem.code, problem.reason, pt=problem.pt, name=name)
    if fila_owns(name, settings):
        from web.access import Access, require

        require(Access.PRODUCER)
    g.user_key = (name, kind)
    return name


def user_value(value: str, settings: Settings) -> str:
    """Return a value the request may store, or refuse it (400)."""
    problem = value_problem(value, settings)
    if problem:
        refuse(400, problem.code, problem.reason, pt=problem.pt)
    return value


def whole_number(raw: str | None, what: str, low: int, high: int, *, code: str, default: int | None = None,
                 pt: str | None = None) -> int:
    """Read a whole number from a URL or a query (ASCII digits, from `low` to `high`), or refuse it (400)."""
    if raw is None and default is not None:
        return default
    if raw is None or len(raw) > len(str(high)) or not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        shown = raw if raw is None or len(raw) <= 20 else raw[:20] + "..."
        refuse(400, code, f"{what} must be a whole number from {low} to {high}, got {shown!r}",
               pt=f"{pt or what} deve ser um número inteiro de {low} a {high}, e veio {shown!r}")
    return int(raw)


def json_whole(value: object, what: str, low: int, high: int, *, code: str, pt: str | None = None) -> int:
    """Read a whole number from a JSON document (not a boolean, not a string), or refuse it (400)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        refuse(400, code, f"{what} must be a whole number from {low} to {high}",
               pt=f"{pt or what} deve ser um número inteiro de {low} a {high}")
    return value


def query_number(name: str, low: int, high: int, default: int, *, code: str = "bad_limit") -> int:
    """Read `?name=` as a whole number within bounds, `default` when absent."""
    return whole_number(request.args.get(name), name, low, high, code=code, default=default)


#: A page's cursor (`?after=`): the score (ms) and the id of the last item of the previous page.
_PAGE_CURSOR = re.compile(r"([0-9]{1,15}):([0-9A-HJKMNP-TV-Z]{26})")


def page_cursor() -> tuple[int, str] | None:
    """Read `?after=` (the previous page's `next`: `<ms>:<id>`), None when absent, or refuse it (400)."""
    after = request.args.get("after")
    if after is None:
        return None
    found = _PAGE_CURSOR.fullmatch(after)
    if found is None:
        refuse(400, "bad_limit", "after must be the `next` of the previous page")
    return int(found[1]), found[2]


def instant(raw: object, what: str, *, code: str) -> float:
    """Read an RFC 3339 date-time with its offset (`2026-12-07T10:00:00Z`, `...+01:00`) as epoch seconds, or 400."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 40 or not safe_text(raw):
        refuse(400, code, f"{what} must be an RFC 3339 date-time with an offset, e.g. 2026-12-07T10:00:00Z")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        refuse(400, code, f"{what} must be an RFC 3339 date-time with an offset, e.g. 2026-12-07T10:00:00Z")
    if moment.tzinfo is None or "T" not in raw.upper():
        refuse(400, code, f"{what} needs its offset (Z, or +hh:mm): without one the time is ambiguous")
    return moment.timestamp()


def message_id(raw: str) -> str:
    """Return a message id from the URL, or refuse it (400) unless it is a ULID."""
    if not is_valid(raw):
        refuse(400, "bad_id", "not a message id (a ULID: 26 characters of Crockford base32)")
    return raw


def json_document() -> Any:
    """Return the request's JSON document (None when it is not JSON), or refuse it (400) when it cannot be read.

    Refused: what is not JSON or not UTF-8, nesting deeper than DEPTH_MAX, lone surrogates,
    numbers beyond a double.
    """
    if not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return loads(raw, DEPTH_MAX, values_max=VALUES_MAX)
    except ValueError as exc:
        refuse(400, "bad_json", f"the body is not JSON fila can keep: {str(exc)[:200]}")


def json_object(usage: str) -> dict[str, Any]:
    """Return the request's JSON object, or refuse (400) anything else with `usage` (what to send)."""
    data = json_document()
    if not isinstance(data, dict):
        refuse(400, "bad_body", usage)
    return data


def text_body() -> str:
    """Return the request's body as text, or refuse it (400) when it is not UTF-8."""
    try:
        return request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError:
        refuse(400, "bad_encoding", "the body is not UTF-8 text", pt="o corpo não é texto UTF-8")


def safe_text(value: str) -> bool:
    """Tell whether text from a request may be echoed into a header or a log line (no control characters)."""
    return not any(ord(char) < 0x20 or ord(char) == 0x7f for char in value)


def idempotency_key() -> str | None:
    """Return the request's Idempotency-Key (unquoted), None without one, or refuse a malformed one (400)."""
    key = request.environ.get(idempotency.ENVIRON)
    if key is None:
        return None
    found = idempotency.KEY.fullmatch(key)
    if found is None:
        refuse(400, "bad_idempotency_key", "Idempotency-Key is 1-255 visible ASCII characters")
    return found[1]
