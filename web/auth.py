"""Operators sign in (a session in Redis) and manage API tokens; the tokens API is for admins."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, jsonify, make_response, redirect, render_template, request, session, url_for

from shared.core import tokens
from web.access import Access, Limit, app_csrf, check_login, operator, policy, start_session
from web.errors import refuse
from web.services import services
from web.validation import json_object, json_whole, safe_text

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str:
    """Return where to go after signing in: a path of this site only (never another host, never a header break)."""
    if not target or len(target) > 2000 or not safe_text(target) or "\\" in target:
        return url_for("console.page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("console.page")
    return target


def _page(error: str | None = None, status: int = 200) -> Response:
    """Render the sign-in page; `error` is a key of web/translations.yaml."""
    settings = services().settings
    response = make_response(render_template("login.html", error=error, next=request.values.get("next", ""),
                                             open_mode=not settings.admin_password, user=operator()), status)
    return response


@bp.route("/login", methods=["GET", "POST"])
@policy(Access.OPEN, Limit.LOGIN)
def login() -> Response:
    """Show the sign-in form; on POST check the credentials and start a session (its CSRF token checked).

    ---
    get:
      tags: [watch]
      responses:
        '200':
          description: The page.
          content:
            text/html:
              schema: {type: string}
    post:
      tags: [watch]
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [username, password, csrf_token]
              properties:
                username: {type: string}
                password: {type: string}
                csrf_token: {type: string}
                next: {type: string}
      responses:
        '302': {description: Signed in; on to `next` (a path of this site) or the console.}
        '400': {$ref: '#/components/responses/BadRequest'}
        '401':
          description: Wrong credentials (or no ADMIN_PASSWORD is set).
          content:
            text/html:
              schema: {type: string}
    """
    if request.method == "GET":
        return _page()
    if g.get("sessions_down") is not None:
        raise g.sessions_down  # sessions live in Redis: without it nobody can sign in (503)
    app_csrf().protect()
    username, password = request.form.get("username", ""), request.form.get("password", "")
    if not services().settings.admin_password or not check_login(username, password):
        log.warning("failed sign-in for %r from %s", username, request.remote_addr)
        return _page("bad_credentials", 401)
    start_session(username)
    log.info("operator %s signed in from %s", username, request.remote_addr)
    return redirect(_safe_next(request.form.get("next")))  # type: ignore[return-value]


@bp.post("/logout")
@policy(Access.OPEN)
def logout() -> Response:
    """End the session: its key in Redis is deleted.

    ---
    tags: [watch]
    responses:
      '302': {description: Signed out; on to /login.}
      '400': {$ref: '#/components/responses/BadRequest'}
    """
    if operator() is not None:
        app_csrf().protect()
        log.info("operator %s signed out", operator())
    session.clear()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


@bp.get("/api/tokens")
@policy(Access.ADMIN)
def tokens_listing() -> Response:
    """List the live API tokens (ids, names and expiry; never their secrets).

    ---
    tags: [watch]
    responses:
      '200':
        description: The tokens.
        content:
          application/json:
            schema:
              type: object
              required: [tokens]
              properties:
                tokens:
                  type: array
                  items: {$ref: '#/components/schemas/Token'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return jsonify({"tokens": tokens.listing(services().redis)})


@bp.post("/api/tokens")
@policy(Access.ADMIN)
def create_token() -> Response:
    """Create a token: `{"name": "...", "ttl": seconds}`; its secret is in this answer only.

    ---
    tags: [watch]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            properties:
              name: {type: string, maxLength: 100}
              ttl: {type: integer, minimum: 1, maximum: 2592000, default: 3600}
    responses:
      '201':
        description: The token.
        content:
          application/json:
            schema:
              allOf:
              - {$ref: '#/components/schemas/Token'}
              - type: object
                required: [token]
                properties:
                  token: {type: string, pattern: ^fila_}
      '400': {$ref: '#/components/responses/BadRequest'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    usage = 'send {"name": "<what it is for: at most 100 printable characters>", "ttl": <seconds>}'
    data = json_object(usage)
    settings = services().settings
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > 100 or not safe_text(name):
        refuse(400, "bad_body", usage)
    ttl = json_whole(data.get("ttl", 3600), "ttl", 1, settings.token_ttl_max, code="bad_ttl")
    name = name or "api"
    secret, record = tokens.create(services().redis, name, ttl)
    log.warning("token %s (%s) created for %ss", record["id"], name, ttl)
    response = jsonify({"token": secret, **record})
    response.status_code = 201
    return response


@bp.delete("/api/tokens/<token_id>")
@policy(Access.ADMIN)
def revoke_token(token_id: str) -> Response:
    """Revoke a token at once.

    ---
    tags: [watch]
    parameters:
    - name: token_id
      in: path
      required: true
      schema: {type: string}
    responses:
      '200':
        description: Revoked.
        content:
          application/json:
            schema:
              type: object
              required: [revoked]
              properties:
                revoked: {type: string}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    if not tokens.revoke(services().redis, token_id):
        refuse(404, "unknown_token", f"no live token has the id {token_id[:40]!r}")
    log.warning("token %s revoked", token_id)
    return jsonify({"revoked": token_id})
