"""The API's contract: /openapi.json (built from the views by web.openapi) and /api/docs, a page of it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, make_response, render_template

from web.access import Access, policy
from web.errors import CODES
from web.openapi import METHODS, build

bp = Blueprint("api_docs", __name__)


def init_app(app: Flask) -> None:
    """Load the document once per app (after every route and its access are in place)."""
    app.extensions["fila_openapi"] = build(app)


def document() -> dict[str, Any]:
    """Return the current app's OpenAPI document."""
    spec: dict[str, Any] = current_app.extensions["fila_openapi"]
    return spec


@bp.get("/openapi.json")
@policy(Access.OPEN)
def openapi() -> Response:
    """Serve the OpenAPI 3.1 document.

    ---
    tags: [watch]
    responses:
      '200':
        description: The OpenAPI document.
        content:
          application/json:
            schema:
              type: object
              required: [openapi, paths]
    """
    return jsonify(document())


@bp.get("/api/docs")
@policy(Access.OPEN)
def reference() -> Response:
    """Render the document as a page, grouped by tag (served here: no CDN, no script).

    ---
    tags: [watch]
    responses:
      '200':
        description: The reference page.
        content:
          text/html:
            schema: {type: string}
    """
    spec = document()
    groups: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                operation = item[method]
                entry = {"method": method.upper(), "path": path, "op": operation,
                         "parameters": [_resolve(spec, p) for p in [*shared, *operation.get("parameters", [])]],
                         "responses": {status: _resolve(spec, r) for status, r in operation["responses"].items()},
                         "body": _resolve(spec, operation["requestBody"]) if "requestBody" in operation else None}
                groups.setdefault(operation.get("tags", ["other"])[0], []).append(entry)
    g.language = "en"  # the reference is written in English: the whole page is
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
