"""The API's contract: /openapi.json (web/openapi.yaml with every error code) and /api/docs, a page of it."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

import yaml
from flask import Blueprint, Flask, Response, current_app, jsonify, make_response, render_template

from web.access import Access, Limit, policy, policy_table
from web.errors import CODES

bp = Blueprint("api_docs", __name__)
#: The order the reference page lists methods in.
METHODS = ("get", "head", "post", "put", "delete", "options")


def load(app: Flask | None = None) -> dict[str, Any]:
    """Read web/openapi.yaml, add the error codes of web.errors.CODES, and (given the app) each route's access.

    The access of every operation comes from the app's policy table (each view's `@policy`), the
    table that enforces it: who may call it (security), and the 401, 403 and 429 it may then answer.
    """
    spec: dict[str, Any] = yaml.safe_load(files("web").joinpath("openapi.yaml").read_text(encoding="utf-8"))
    code = spec["components"]["schemas"]["ErrorCode"]
    code["enum"] = list(CODES)
    code["x-codes"] = dict(CODES)
    if app is not None:
        _document_access(app, spec)
    return spec


def _document_access(app: Flask, spec: dict[str, Any]) -> None:
    refused = {"$ref": "#/components/responses/Refused"}
    table = policy_table(app)
    for rule in app.url_map.iter_rules():
        access, limit = table[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            operation = spec["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue  # tests/web/test_openapi.py reports it
            responses = operation["responses"]
            operation["x-access"] = access.value
            if access is Access.PRODUCER:
                operation["security"] = [{}, {"bearer": []}, {"session": []}]
                responses.setdefault("401", refused)
            elif access is Access.ADMIN:
                operation["security"] = [{"bearer": []}, {"session": []}]
                responses.setdefault("401", refused)
            if limit is not Limit.NONE:
                responses.setdefault("429", {"$ref": "#/components/responses/TooMany"})
            if method in {"POST", "PUT", "DELETE", "PATCH"}:
                responses.setdefault("403", refused)
            if "503" in responses:  # a route that reaches Redis may meet it full
                responses.setdefault("507", {"$ref": "#/components/responses/Full"})


def init_app(app: Flask) -> None:
    """Load the document once per app (after every route and its access are in place)."""
    app.extensions["fila_openapi"] = load(app)


def document() -> dict[str, Any]:
    """Return the current app's OpenAPI document."""
    spec: dict[str, Any] = current_app.extensions["fila_openapi"]
    return spec


@bp.get("/openapi.json")
@policy(Access.OPEN)
def openapi() -> Response:
    """Serve the OpenAPI 3.1 document."""
    return jsonify(document())


@bp.get("/api/docs")
@policy(Access.OPEN)
def reference() -> Response:
    """Render the document as a page, grouped by tag (served here: no CDN, no script)."""
    spec = document()
    groups: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                operation = item[method]
                entry = {"method": method.upper(), "path": path, "op": operation,
                         "parameters": [_resolve(spec, p) for p in [*shared, *operation.get("parameters", [])]],
                         "responses": {status: _resolve(spec, r) for status, r in operation["responses"].items()}}
                groups.setdefault(operation.get("tags", ["other"])[0], []).append(entry)
    response = make_response(render_template("api.html", spec=spec, groups=groups, codes=CODES))
    return response


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (one level is all the document uses)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    resolved: dict[str, Any] = target
    return resolved
