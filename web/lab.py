"""The student's routes (lab/app.py), loaded into the app so that no mistake in them stops fila.

The file is executed afresh each time an app is built (`make dev` builds one whenever a file
changes). Whatever goes wrong — a syntax error, a NameError, a file that never finishes loading
(a loop, a sleep), two views with one name — is logged with the file, the line and the error,
and fila serves everything else, the lab's routes recorded above the error included; under
FILA_DEV the 404 of a missing lab route says it too.
Each route is open to all and counted against RATE_LIMIT_WRITES (the handout's own policy); a
route of the same address as one of fila's is served instead of it (said in the log). When a
view fails while it answers, the answer is a 500 naming the file, line and error in
development, and only "see the log" otherwise; a view that returns None (a key that is not
there) answers 404 instead of Flask's TypeError.

The blueprint is made per app, not per module (unlike every other module's `bp`): its routes
come from the student's file as it is when the app is built.
"""

from __future__ import annotations

import functools
import logging
import threading
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask, current_app
from werkzeug.exceptions import HTTPException

import lab
from shared.core.settings import Settings
from shared.lab import Route
from web.access import Access, Limit, policy
from web.errors import refuse

log = logging.getLogger(__name__)

#: Seconds the student's file may take to load before fila goes on without it.
LOAD_SECONDS = 5.0
NAME = "lab"


@dataclass
class LabState:
    """What loading the student's file gave: its routes' rules, or the error that stopped it."""

    path: Path
    rules: list[str]
    error: str | None = None


def lab_dir(settings: Settings) -> Path:
    """Return the folder of the student's code (LAB_DIR, or the project's lab/)."""
    return Path(settings.lab_dir) if settings.lab_dir else Path(lab.__file__).resolve().parent


def where(error: BaseException, path: Path) -> str:
    """Return `file, line N: Kind: message` for an error raised in (or while compiling) the student's file."""
    line = None
    if isinstance(error, SyntaxError) and error.filename and Path(error.filename).resolve() == path.resolve():
        line = error.lineno
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            if Path(frame.filename).resolve() == path.resolve():
                line = frame.lineno
    place = f"{_shown(path)}, linha {line}" if line else _shown(path)
    detail = error.msg if isinstance(error, SyntaxError) else str(error)
    return f"{place}: {type(error).__name__}: {detail}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _execute(path: Path) -> tuple[list[Route], BaseException | None]:
    """Run the student's file (within LOAD_SECONDS) and return the routes it recorded, or what stopped it."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        module = ModuleType("lab_app")
        module.__file__ = str(path)
        try:
            code = compile(path.read_bytes(), str(path), "exec")
            exec(code, module.__dict__)  # the student's own file, by design
        except BaseException as error:  # any mistake, even SystemExit, must not stop fila
            outcome["error"] = error
        own = module.__dict__.get("app")
        if isinstance(own, Flask):  # the handout's whole app.py pasted, `app = Flask(__name__)` and all
            outcome["adopted"] = [Route(rule.rule, own.view_functions[rule.endpoint],
                                        {"methods": sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}),
                                         "endpoint": rule.endpoint})
                                  for rule in own.url_map.iter_rules() if rule.endpoint != "static"]

    lab.app.routes, lab.app.loading = [], True
    try:
        worker = threading.Thread(target=run, name="lab-load", daemon=True)
        worker.start()
        worker.join(LOAD_SECONDS)
        routes = list(lab.app.routes) + outcome.get("adopted", [])
    finally:
        lab.app.loading = False
    if worker.is_alive():
        return [], TimeoutError(f"o arquivo levou mais de {LOAD_SECONDS:.0f} s para carregar (um laço? um sleep?): "
                                "ponha esse código num script à parte (lab/worker.py) ou sob "
                                "`if __name__ == '__main__':`")
    return routes, outcome.get("error")


def _wrap(view: Any, path: Path) -> Any:
    """Make a student's view answer like fila's: 404 for None, text for numbers, a clear 500 for an error."""
    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            result = view(*args, **kwargs)
        except HTTPException:
            raise
        except Exception as error:
            from shared.core.connection import FULL, UNAVAILABLE

            if isinstance(error, (*UNAVAILABLE, FULL)):
                raise  # 503 / 507, rendered with fila's own
            place = where(error, path)
            log.exception("lab: %s", place)
            detail = place if current_app.extensions["fila_lab_dev"] else "veja o log do fila"
            refuse(500, "lab_error", f"the lab route failed: {detail}", pt=f"a sua rota falhou: {detail}")
        if result is None:
            refuse(404, "lab_nothing", f"{view.__name__}() returned None (nothing found?)",
                   pt=f"{view.__name__}() devolveu None: nada encontrado (a chave não existe?)")
        if isinstance(result, (int, float)) and not isinstance(result, bool):
            return str(result)
        return result

    return policy(Access.OPEN, Limit.WRITES)(answer)


def _blueprint(routes: list[Route], path: Path) -> Blueprint:
    """Return a blueprint of the student's routes."""
    bp = Blueprint(NAME, __name__)
    for route in routes:
        options = dict(route.options)
        endpoint = options.pop("endpoint", None) or route.view.__name__
        bp.add_url_rule(route.rule, endpoint=endpoint, view_func=_wrap(route.view, path), **options)
    return bp


def init_app(app: Flask, settings: Settings) -> None:
    """Load the student's routes into a blueprint of their own, registered before fila's (theirs win)."""
    path = lab_dir(settings) / "app.py"
    app.extensions["fila_lab_dev"] = settings.dev
    app.extensions["fila_lab_problem"] = None
    state = LabState(path, [])
    app.extensions["fila_lab"] = state
    if not path.is_file():
        return
    lab.db.use(settings)
    routes, error = _execute(path)
    if routes:
        try:  # two views of one name, a malformed rule: found on a scratch app, so the real one stays whole
            Flask("lab-check").register_blueprint(_blueprint(routes, path))
        except Exception as failed:  # the lab's mistake, whatever it is
            error, routes = error or failed, []
    if routes:  # what the file recorded before any error it has
        app.register_blueprint(_blueprint(routes, path))
        state.rules = [route.rule for route in routes]
        log.info("lab: %s: %s", _shown(path), ", ".join(state.rules))
    if error is not None:
        english = settings.language == "en"
        state.error = where(error, path)
        app.extensions["fila_lab_problem"] = state.error if settings.dev else None
        log.error("lab: %s (%s)", state.error, "fila goes on, with the lab's routes above the error" if english else
                  "o fila continua no ar, com as rotas do laboratório anteriores ao erro")


def report_overrides(app: Flask, settings: Settings) -> None:
    """Log each lab route that is served instead of one of fila's (same address)."""
    mine = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(f"{NAME}.")}
    for rule in app.url_map.iter_rules():
        if rule.rule in mine and not rule.endpoint.startswith(f"{NAME}."):
            log.warning("lab: %s %s (%s)", rule.rule, "replaces fila's route" if settings.language == "en"
                        else "do laboratório substitui a rota do fila", rule.endpoint)



class Reloading:
    """`make dev`'s app: built again when a file of the lab changes, with no gap (requests in flight end as begun).

    granian's own reloader restarts the server (about a second of refused connections); for the
    student's files, which change most, the app is rebuilt in place instead, by the first request
    after the change (each request looks at the files' times: a few stat calls, in development only).
    """

    def __init__(self, build: Callable[[], Flask], folder: Path):
        self.build, self.folder = build, folder
        self.lock = threading.Lock()
        self.stamp = self._stamp()
        self.app = build()

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        """Return what identifies the lab's files as they are now (names, times, sizes)."""
        found = []
        for path in sorted(self.folder.glob("*.py")):
            with suppress(OSError):
                status = path.stat()
                found.append((path.name, status.st_mtime_ns, status.st_size))
        return tuple(found)

    def current(self) -> Flask:
        """Return the app for this request: rebuilt first if the lab's files changed."""
        stamp = self._stamp()
        if stamp != self.stamp:
            with self.lock:
                if stamp != self.stamp:
                    log.info("lab: %s changed: the routes are loaded again", _shown(self.folder))
                    self.app, self.stamp = self.build(), stamp
        return self.app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current()(environ, start_response)
