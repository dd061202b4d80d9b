"""The language of a page: Portuguese or English, one per page, every word from web/translations.yaml.

A page's language is, in order: `?lang=` (remembered in a cookie), the cookie, the browser's
Accept-Language, then FILA_LANGUAGE (from `LANG` when unset). Templates call `t("key", name=...)`;
console.js receives the page language's whole table.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from flask import Flask, Response, current_app, g, request

LANGUAGES = ("pt-BR", "en")
COOKIE = "fila_lang"
#: What Accept-Language may name for each language.
_ACCEPTED = {"pt-BR": "pt-BR", "pt": "pt-BR", "pt-PT": "pt-BR", "en": "en", "en-US": "en", "en-GB": "en"}


@cache
def table() -> dict[str, dict[str, str]]:
    """Return every key with its text in each language."""
    loaded: dict[str, dict[str, str]] = yaml.safe_load(
        files("web").joinpath("translations.yaml").read_text(encoding="utf-8"))
    return loaded


def words(language: str) -> dict[str, str]:
    """Return one language's table (key -> text)."""
    return {key: texts[language] for key, texts in table().items()}


def language() -> str:
    """Return the current request's language."""
    chosen: str | None = g.get("language")
    if chosen:
        return chosen
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    if asked not in LANGUAGES:
        best = request.accept_languages.best_match(list(_ACCEPTED))
        asked = _ACCEPTED[best] if best else current_app.extensions["fila_language"]
    g.language = asked
    return asked


def translate(key: str, **values: Any) -> str:
    """Return the text of `key` in the request's language, its `{names}` filled in."""
    text = table()[key][language()]
    return text.format(**values) if values else text


def _remember(response: Response) -> Response:
    """Keep a language chosen with ?lang= for the next pages."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask, default: str) -> None:
    """Give templates `t`, `language` and `words`, and remember a chosen language."""
    app.extensions["fila_language"] = default if default in LANGUAGES else "pt-BR"
    app.jinja_env.globals.update(t=translate, language=language, words=lambda: words(language()))
    app.after_request(_remember)
