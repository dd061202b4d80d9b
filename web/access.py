"""Who may do what, in one table, and the machinery behind it: sessions, tokens, CSRF, rate limits.

POLICY names every route's access and rate limit:
- open: anyone (the handout's routes, probes, docs); the handout's writes are rate-limited;
- producer: the message and job API; open by default, a token (or an operator's session) when
  API_TOKENS_REQUIRED is set;
- admin: dead letters, pause and resume, job cancel and delete, tokens, the console; a session
  (login) or a token whenever ADMIN_PASSWORD is set, open when it is not (make run on 127.0.0.1).

Sessions live in Redis (Flask-Session) with a TTL refreshed on use; a session-authenticated change
must carry its CSRF token (Flask-WTF); a change a browser sends from another site is refused
outright (Fetch Metadata). Limits count in Redis (Flask-Limiter, INCR with an expiry); while Redis
is down they count in each process's memory instead, so a login stays limited.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any, cast

from flask import Flask, Response, g, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_session.redis import RedisSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from shared import keys, tokens
from shared.connection import UNAVAILABLE
from shared.settings import Settings
from web.errors import refuse
from web.services import Services, services

log = logging.getLogger(__name__)


class Access(StrEnum):
    """Who may call a route."""

    OPEN = "open"
    PRODUCER = "producer"
    ADMIN = "admin"


class Limit(StrEnum):
    """Which rate limit (a setting) a route counts against."""

    NONE = "none"
    WRITES = "writes"
    API = "api"
    LOGIN = "login"


_OPEN, _PRODUCER, _ADMIN = Access.OPEN, Access.PRODUCER, Access.ADMIN
#: Every route of the app (tests/web/test_access.py fails on one missing), its access and its limit.
POLICY: dict[str, tuple[Access, Limit]] = {
    **{f"handout.{name}": (_OPEN, Limit.NONE) for name in (
        "hello", "hello_without_redis", "start_page", "about", "contact", "greet", "get_value", "list_values",
        "fib_without_cache", "fib_with_cache", "limit_demo")},
    **{f"handout.{name}": (_OPEN, Limit.WRITES) for name in ("set_value", "push", "pop")},
    "jobs.create_text": (_OPEN, Limit.WRITES),
    "kv.read": (_OPEN, Limit.NONE), "kv.write": (_OPEN, Limit.WRITES), "kv.delete": (_OPEN, Limit.WRITES),
    "bulk.load": (_OPEN, Limit.WRITES),
    "health.alive": (_OPEN, Limit.NONE), "health.ready": (_OPEN, Limit.NONE), "metrics.metrics": (_OPEN, Limit.NONE),
    "api_docs.openapi": (_OPEN, Limit.NONE), "api_docs.reference": (_OPEN, Limit.NONE), "static": (_OPEN, Limit.NONE),
    "auth.login": (_OPEN, Limit.LOGIN), "auth.logout": (_OPEN, Limit.NONE),
    "messages.produce": (_PRODUCER, Limit.API), "messages.status": (_PRODUCER, Limit.NONE),
    "jobs.create": (_PRODUCER, Limit.API), "jobs.job_status": (_PRODUCER, Limit.NONE),
    "jobs.job_result": (_PRODUCER, Limit.NONE), "jobs.cached_result": (_PRODUCER, Limit.NONE),
    "queues.queues": (_PRODUCER, Limit.NONE), "queues.workers": (_PRODUCER, Limit.NONE),
    "queues.history": (_PRODUCER, Limit.NONE),
    "queues.pause": (_ADMIN, Limit.NONE), "queues.resume": (_ADMIN, Limit.NONE), "jobs.cancel": (_ADMIN, Limit.NONE),
    **{f"dead_letters.{name}": (_ADMIN, Limit.NONE) for name in ("listing", "one", "delete", "requeue", "purge")},
    "auth.tokens_listing": (_ADMIN, Limit.NONE), "auth.create_token": (_ADMIN, Limit.NONE),
    "auth.revoke_token": (_ADMIN, Limit.NONE),
    "panel.page": (_ADMIN, Limit.NONE), "panel.snapshot": (_ADMIN, Limit.NONE),
}
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Sessions(RedisSessionInterface):
    """Flask-Session's Redis sessions: a Secure cookie over HTTPS, and no 500 when Redis is down.

    With Redis down a request is treated as signed out (the view's own Redis calls then answer
    503), and a session that cannot be saved is left as it was.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure over HTTPS (behind TRUSTED_PROXIES, as the proxy says)."""
        return bool(request.is_secure) or bool(super().get_cookie_secure(app))

    def open_session(self, app: Flask, request: Any) -> Any:
        """Load the session, or start an empty one while Redis is unreachable."""
        try:
            return super().open_session(app, request)
        except UNAVAILABLE as exc:
            log.warning("sessions: redis unavailable (%s); this request is signed out", exc)
            g.sessions_down = exc
            return self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Save the session, unless Redis is unreachable."""
        try:
            super().save_session(app, session, response)
        except UNAVAILABLE as exc:
            log.warning("sessions: redis unavailable (%s); the session was not saved", exc)


def admin_hash(password: str) -> str:
    """Return the hash to check the admin password against (ADMIN_PASSWORD may be given already hashed)."""
    if password.startswith(("scrypt:", "pbkdf2:")):
        return password
    return generate_password_hash(password, method="scrypt")


def secret_key(settings: Settings) -> str:
    """Return SECRET_KEY, or one derived from the admin password and Redis' URL (the same in every process)."""
    if settings.secret_key:
        return settings.secret_key
    material = f"fila:{settings.admin_password}:{settings.redis_url}".encode()
    return hashlib.sha256(material).hexdigest()


def init_app(app: Flask, built: Services) -> None:
    """Wire sessions, CSRF, the limiter and the policy of every route into the app."""
    settings = built.settings
    if settings.trusted_proxies:
        proxies = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=secret_key(settings), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="fila_session", PERMANENT_SESSION_LIFETIME=settings.session_ttl,
        SESSION_REFRESH_EACH_REQUEST=True, WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_HEADERS_ENABLED=True, RATELIMIT_SWALLOW_ERRORS=True, RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True)
    app.session_interface = Sessions(app, client=built.rq_redis, key_prefix=keys.SESSION_PREFIX, use_signer=False,
                                     permanent=True)
    csrf = CSRFProtect(app)
    # The limits count on fila's own connections (its timeouts; through Sentinel when REDIS_URL says so).
    storage: dict[str, Any] = {"connection_pool": built.rq_redis.connection_pool, "key_prefix": keys.LIMITS_PREFIX}
    limiter = Limiter(get_remote_address, app=app, storage_uri="redis://", storage_options=storage)
    app.extensions["fila_access"] = {"admin_hash": admin_hash(settings.admin_password)
                                     if settings.admin_password else None, "csrf": csrf}
    app.before_request(_refuse_cross_site)
    limits = {Limit.WRITES: settings.rate_limit_writes, Limit.API: settings.rate_limit_api,
              Limit.LOGIN: settings.rate_limit_login}
    for endpoint, view in list(app.view_functions.items()):
        access, limit = POLICY[endpoint]
        guarded = _guard(view, access)
        if limit is not Limit.NONE and limits[limit]:
            guarded = limiter.limit(limits[limit], key_func=get_remote_address)(guarded)
        app.view_functions[endpoint] = guarded


def _refuse_cross_site() -> None:
    """Refuse a change a browser sends from another site (its Sec-Fetch-Site says so); curl sends none."""
    if request.method in _UNSAFE and request.headers.get("Sec-Fetch-Site") in {"cross-site", "same-site"}:
        refuse(403, "cross_site", "a page of another site may not change fila: use fila's own pages or the API",
               pt="uma página de outro site não pode alterar o fila")


def operator() -> str | None:
    """Return who is signed in (a session), if anyone."""
    user = session.get("user")
    return user if isinstance(user, str) else None


def bearer() -> dict[str, Any] | None:
    """Return the live token the request carries (Authorization: Bearer), refusing (401) a dead one."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    record = tokens.verify(services().redis, header.removeprefix("Bearer ").strip())
    if record is None:
        _unauthorized("the token is unknown, expired or revoked: create a new one (fila token create)")
    return record


def _unauthorized(message: str) -> None:
    refuse(401, "unauthorized", message, pt=f"não autorizado: {message}")


def _guard(view: Callable[..., Any], access: Access) -> Callable[..., Any]:
    """Wrap a view so that it runs only for who its access allows."""
    if access is Access.OPEN:
        return view

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        settings = services().settings
        required = settings.admin_password if access is Access.ADMIN else settings.api_tokens_required
        token = bearer()
        if token is not None:
            g.actor = f"token {token['id']} ({token['name']})"
            return view(*args, **kwargs)
        if operator() is not None:
            g.actor = f"operator {operator()}"
            if request.method in _UNSAFE:
                app_csrf().protect()
            return view(*args, **kwargs)
        if not required:
            return view(*args, **kwargs)
        if request.accept_mimetypes.accept_html and not request.path.startswith("/api/"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        what = "an operator's login or a token" if access is Access.ADMIN else "a token (Authorization: Bearer)"
        _unauthorized(f"this needs {what}")
        return Response(status=401)  # not reached: _unauthorized raises

    return guarded


def app_csrf() -> CSRFProtect:
    """Return the current app's CSRF protection."""
    from flask import current_app

    return cast(CSRFProtect, current_app.extensions["fila_access"]["csrf"])


def check_login(username: str, password: str) -> bool:
    """Tell whether these are the admin's credentials (constant time; the password is kept only hashed)."""
    from flask import current_app

    hashed = current_app.extensions["fila_access"]["admin_hash"]
    name_ok = hmac.compare_digest(username.encode(), services().settings.admin_username.encode())
    return bool(hashed) and check_password_hash(hashed, password) and name_ok
