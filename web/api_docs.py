"""The API's contract: /openapi.json (web/openapi.yaml with every error code) and /api/docs, a page of it."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml
from flask import Blueprint, Flask, Response, current_app, jsonify, make_response, render_template

from web.errors import CODES
from web.panel import CSP

bp = Blueprint("api_docs", __name__)
#: The order the reference page lists methods in.
METHODS = ("get", "head", "post", "put", "delete", "options")


def load() -> dict[str, Any]:
    """Read web/openapi.yaml and add the error codes of web.errors.CODES to its ErrorCode schema."""
    spec: dict[str, Any] = yaml.safe_load(files("web").joinpath("openapi.yaml").read_text(encoding="utf-8"))
    code = spec["components"]["schemas"]["ErrorCode"]
    code["enum"] = list(CODES)
    code["x-codes"] = dict(CODES)
    return spec


def init_app(app: Flask) -> None:
    """Load the document once per app."""
    app.extensions["fila_openapi"] = load()


def document() -> dict[str, Any]:
    """Return the current app's OpenAPI document."""
    spec: dict[str, Any] = current_app.extensions["fila_openapi"]
    return spec


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI 3.1 document."""
    return jsonify(document())


@bp.get("/api/docs")
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
    response.headers["Content-Security-Policy"] = CSP
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
