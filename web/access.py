"""Who may do what, and the machinery behind it: sessions, tokens, CSRF, rate limits.

Every view declares its access and its rate limit where it is defined, with `@policy(...)`:
- open: anyone (the handout's routes, probes, docs); the handout's writes are rate-limited;
- producer: the message and job API; open by default, a token (or an operator's session) when
  API_TOKENS_REQUIRED is set;
- admin: dead letters, pause and resume, job cancel and delete, tokens, the console; a session
  (login) or a token whenever ADMIN_PASSWORD is set, open when it is not (make run on 127.0.0.1).
`init_app` collects the declarations into the app's policy table (`policy_table()`), which the
OpenAPI document and the tests read; a view without one stops the app from starting.

Sessions live in Redis (Flask-Session) under a hash of their id, with a TTL refreshed on use,
a maximum age, and the fingerprint of the password they were made with; a
session-authenticated change must carry its CSRF token (Flask-WTF); a change a browser sends
from another site is refused outright (Fetch Metadata). Limits count in Redis (Flask-Limiter,
INCR with an expiry), one budget per client and kind of limit across the routes that share it;
while Redis is down they count in each process's memory instead, so a login stays limited.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, NamedTuple, NoReturn, TypeVar, cast

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_session.redis import RedisSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from shared.core import keys, tokens
from shared.core.connection import FULL, UNAVAILABLE
from shared.core.settings import Settings
from web.errors import Refusal, refuse
from web.services import Services, services

log = logging.getLogger(__name__)
View = TypeVar("View", bound=Callable[..., Any])


class Access(StrEnum):
    """Who may call a route."""

    OPEN = "open"
    PRODUCER = "producer"
    ADMIN = "admin"


class Limit(StrEnum):
    """Which rate limit (a setting) a route counts against; the routes of one limit share each client's budget."""

    NONE = "none"
    WRITES = "writes"
    API = "api"
    LOGIN = "login"
    CPU = "cpu"


class Policy(NamedTuple):
    """A view's access and rate limit."""

    access: Access
    limit: Limit = Limit.NONE


#: Flask's own static files.
STATIC_POLICY = Policy(Access.OPEN)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The methods each limit counts (a login form's page load is not an attempt).
_COUNTED: dict[Limit, list[str] | None] = {Limit.LOGIN: ["POST"]}


def policy(access: Access, limit: Limit = Limit.NONE) -> Callable[[View], View]:
    """Declare who may call the view below and which rate limit it counts against."""
    def declare(view: View) -> View:
        view.fila_policy = Policy(access, limit)  # type: ignore[attr-defined]
        return view
    return declare


def declared(view: Callable[..., Any]) -> Policy | None:
    """Return the policy a view declared, if any."""
    found = getattr(view, "fila_policy", None)
    return found if isinstance(found, Policy) else None


def policy_table(app: Flask | None = None) -> dict[str, Policy]:
    """Return the app's table: endpoint -> its policy (every route of the app)."""
    table: dict[str, Policy] = (app or current_app).extensions["fila_policy"]
    return table


def session_fingerprint(settings: Settings) -> str:
    """Return what a session remembers of the admin password it was made with (changing it ends them all)."""
    return hmac.new(secret_key(settings).encode(), f"admin:{settings.admin_password}".encode(),
                    hashlib.sha256).hexdigest()[:32]


class Sessions(RedisSessionInterface):
    """Flask-Session's Redis sessions, kept under a hash of their id and checked for age and password.

    A key name seen with SCAN is not a cookie: the key is the SHA-256 of the id the cookie holds
    (the id is 256 random bits, so the hash cannot be turned back into it). A session made before
    ADMIN_PASSWORD changed, or older than SESSION_MAX_AGE, is emptied (signed out) when it is
    opened. With Redis down a request is treated as signed out (the view's own Redis calls then
    answer 503), and a session that cannot be saved is left as it was.
    """

    def __init__(self, app: Flask, *, fingerprint: str, max_age: int, **options: Any):
        super().__init__(app, **options)
        self.fingerprint, self.max_age = fingerprint, max_age

    def _get_store_id(self, sid: str) -> str:
        prefix: str = self.key_prefix
        return prefix + hashlib.sha256(sid.encode()).hexdigest()

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure over HTTPS (behind TRUSTED_PROXIES, as the proxy says)."""
        return bool(request.is_secure) or bool(super().get_cookie_secure(app))

    def open_session(self, app: Flask, request: Any) -> Any:
        """Load the session (empty when stale), or start an empty one while Redis is unreachable."""
        try:
            opened = super().open_session(app, request)
        except UNAVAILABLE as exc:
            log.warning("sessions: redis unavailable (%s); this request is signed out", exc)
            g.sessions_down = exc
            return self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)
        if "user" in opened and (opened.get("key") != self.fingerprint
                                 or not time.time() - float(opened.get("since", 0)) < self.max_age):
            log.info("sessions: a session of %r ended (too old, or made with another admin password)",
                     opened.get("user"))
            opened.clear()
        return opened

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Save the session, unless Redis is unreachable or full."""
        try:
            super().save_session(app, session, response)
        except (*UNAVAILABLE, FULL) as exc:
            log.warning("sessions: redis unavailable or full (%s); the session was not saved", exc)


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
    app.session_interface = Sessions(app, client=built.sessions_redis, key_prefix=keys.SESSION_PREFIX,
                                     use_signer=False, permanent=True, fingerprint=session_fingerprint(settings),
                                     max_age=settings.session_max_age)
    csrf = CSRFProtect(app)
    # The limits count on fila's own connections (its timeouts; through Sentinel when REDIS_URL says so).
    storage: dict[str, Any] = {"connection_pool": built.sessions_redis.connection_pool,
                               "key_prefix": keys.LIMITS_PREFIX}
    limiter = Limiter(get_remote_address, app=app, storage_uri="redis://", storage_options=storage)
    app.extensions["fila_access"] = {"admin_hash": admin_hash(settings.admin_password)
                                     if settings.admin_password else None, "csrf": csrf}
    app.before_request(_refuse_cross_site)
    limits = {Limit.WRITES: settings.rate_limit_writes, Limit.API: settings.rate_limit_api,
              Limit.LOGIN: settings.rate_limit_login, Limit.CPU: settings.rate_limit_cpu}
    table: dict[str, Policy] = {}
    for endpoint, view in list(app.view_functions.items()):
        found = STATIC_POLICY if endpoint == "static" else declared(view)
        if found is None:
            raise RuntimeError(f"the view {endpoint} declares no access: put @policy(Access..., Limit...) under "
                               "its route (web/access.py)")
        table[endpoint] = found
        guarded = _guard(view, found.access)
        if found.limit is not Limit.NONE and limits[found.limit]:
            guarded = limiter.shared_limit(limits[found.limit], scope=found.limit.value, key_func=get_remote_address,
                                           methods=_COUNTED.get(found.limit))(guarded)
        app.view_functions[endpoint] = guarded
    app.extensions["fila_policy"] = table


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
    """Return the live token the request carries (Authorization: Bearer, any case), refusing (401) a dead one."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    record = tokens.verify(services().redis, credentials.strip())
    if record is None:
        unauthorized("the token is unknown, expired or revoked: create a new one (fila token create)")
    return record


def actor() -> str:
    """Name who sent the request, for the timelines: its token, its operator, else its client's address."""
    return str(g.get("actor") or f"client {request.remote_addr}")


def origin() -> dict[str, str]:
    """Return where a request's messages came from (its route and its sender), for their timelines."""
    return {"route": f"{request.method} {request.path}"[:200], "by": actor()}


def unauthorized(message: str) -> NoReturn:
    """Refuse the request (401)."""
    refuse(401, "unauthorized", message, pt=f"não autorizado: {message}")


def required(access: Access) -> bool:
    """Tell whether callers of this access must show who they are (a token or a session) with these settings."""
    settings = services().settings
    if access is Access.ADMIN:
        return bool(settings.admin_password)
    return access is Access.PRODUCER and settings.api_tokens_required


def require(access: Access) -> None:
    """Let the request go on only if its caller may use this access; refuse it (401) otherwise.

    A token or an operator's session is always enough (a session's changes carry their CSRF
    token); without either, only when the settings leave this access open.
    """
    if access is Access.OPEN or g.get("actor"):
        return
    token = bearer()
    if token is not None:
        g.actor = f"token {token['id']} ({token['name']})"
        return
    who = operator()
    if who is not None:
        g.actor = f"operator {who}"
        if request.method in _UNSAFE:
            app_csrf().protect()
        return
    if required(access):
        what = "an operator's login or a token" if access is Access.ADMIN else "a token (Authorization: Bearer)"
        unauthorized(f"this needs {what}")


def _guard(view: Callable[..., Any], access: Access) -> Callable[..., Any]:
    """Wrap a view so that it runs only for who its access allows (a browser asking for a page goes to /login)."""
    if access is Access.OPEN:
        return view

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            require(access)
        except Refusal as refused:
            if (refused.code == 401 and "Authorization" not in request.headers and not request.path.startswith("/api/")
                    and request.accept_mimetypes.accept_html):
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            raise
        return view(*args, **kwargs)

    return guarded


def app_csrf() -> CSRFProtect:
    """Return the current app's CSRF protection."""
    return cast(CSRFProtect, current_app.extensions["fila_access"]["csrf"])


def check_login(username: str, password: str) -> bool:
    """Tell whether these are the admin's credentials (constant time; the password is kept only hashed)."""
    hashed = current_app.extensions["fila_access"]["admin_hash"]
    name_ok = hmac.compare_digest(username.encode(), services().settings.admin_username.encode())
    return bool(hashed) and check_password_hash(hashed, password) and name_ok


def start_session(username: str) -> None:
    """Sign an operator in: a new session id (no fixation), tied to this admin password and this moment."""
    session.clear()
    session.update(user=username, key=session_fingerprint(services().settings), since=time.time())
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
