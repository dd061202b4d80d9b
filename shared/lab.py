"""What `from lab import app, db` gives a student's code: an `app` whose `@app.route` fila serves, and a Redis `db`.

lab/app.py is the handout's `app.py`: its snippets paste in as written. `@app.route(...)` records
a route (the web app serves it, open to all and counted against RATE_LIMIT_WRITES, as the
handout's own routes are); `app.logger` logs to fila's log; `app.run(...)` at the end of the file
says where the routes are served instead of starting a second server. `db` is a client of the
Redis fila uses (REDIS_URL, or the one `make run` started), made on first use, answering bytes
as the handout's `redis.Redis(...)` does. web/lab.py loads the file; a mistake in it is reported
there and never stops fila.
"""

from __future__ import annotations

import logging
import socket
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import redis

if TYPE_CHECKING:
    from shared.core.settings import Settings

View = TypeVar("View", bound=Callable[..., Any])
# The handout teaches SETEX; redis-py calls it deprecated (SET with EX does the same). The lab keeps the
# handout's word without a warning in the student's terminal: docs/laboratorio.md shows the other form.
warnings.filterwarnings("ignore", message="Call to deprecated setex", category=DeprecationWarning)
#: Longest blocking pop a lab script may ask for (seconds); the socket waits that much longer.
BLOCK_MAX = 60.0


@dataclass
class Route:
    """One `@app.route(...)` of the student's file."""

    rule: str
    view: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)


class LabApp:
    """The `app` of lab/app.py: it records routes for fila to serve, as Flask's `app.route` would register them."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.logger = logging.getLogger("lab")
        self.loading = False

    def route(self, rule: str, **options: Any) -> Callable[[View], View]:
        """Record the view below for `rule` (Flask's options: methods, endpoint, defaults...)."""
        def record(view: View) -> View:
            self.routes.append(Route(rule, view, options))
            return view
        return record

    def get(self, rule: str, **options: Any) -> Callable[[View], View]:
        """Record a GET route."""
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[View], View]:
        """Record a POST route."""
        return self.route(rule, methods=["POST"], **options)

    def run(self, host: str | None = None, port: int | None = None, debug: bool | None = None,
            **_options: Any) -> None:
        """Serve fila with these routes when nothing serves it yet; otherwise say where they already are."""
        from shared.core.run_file import NoRedis, tool_settings

        if self.loading:  # an unguarded app.run() while fila loads the file
            self.logger.warning("app.run() ignorado: o fila já serve estas rotas (ponha-o sob "
                                "`if __name__ == '__main__':`)")
            return
        port = port or 5000
        try:
            settings, _source = tool_settings()
        except NoRedis as missing:
            print(missing)
            return
        english = settings.language == "en"
        if _listening(port):
            print(f"port {port} already serves fila (make run / make dev): your routes are there, reloaded when "
                  f"lab/app.py is saved under make dev: http://localhost:{port}/" if english else
                  f"a porta {port} já serve o fila (make run / make dev): suas rotas estão lá, recarregadas a cada "
                  f"gravação de lab/app.py no make dev: http://localhost:{port}/")
            return
        from werkzeug.serving import run_simple

        from web import create_app

        # Never Werkzeug's debugger (it runs code sent from the browser); never beyond this machine.
        if host not in (None, "127.0.0.1", "localhost"):
            print(f"host={host} ignored: the lab listens on 127.0.0.1 only" if english else
                  f"host={host} ignorado: o laboratório escuta só em 127.0.0.1")
        run_simple("127.0.0.1", port, create_app(), use_reloader=True, use_debugger=False, threaded=True)


def _listening(port: int) -> bool:
    """Tell whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LazyRedis:
    """The lab's `db`: fila's Redis, connected on first use, answering bytes (as `redis.Redis(...)` does)."""

    def __init__(self) -> None:
        self._client: redis.Redis | None = None
        self._lock = threading.Lock()

    def client(self) -> redis.Redis:
        """Return the client, connecting it the first time (SystemExit with a message when no Redis is known)."""
        with self._lock:
            if self._client is None:
                from shared.core.connection import connect
                from shared.core.run_file import NoRedis, tool_settings

                try:
                    settings, _source = tool_settings()
                except NoRedis as missing:
                    raise SystemExit(str(missing)) from None
                self._client = connect(settings, decode=False, block_timeout=BLOCK_MAX, name="fila-lab")
            return self._client

    def use(self, settings: Settings) -> None:
        """Point `db` at the Redis of these settings (the web app's, when it loads the lab)."""
        from shared.core.connection import connect

        with self._lock:
            self._client = connect(settings, decode=False, block_timeout=BLOCK_MAX, name="fila-lab")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)

    def __repr__(self) -> str:
        return f"<lab db: {self._client!r}>" if self._client else "<lab db: not connected yet>"
