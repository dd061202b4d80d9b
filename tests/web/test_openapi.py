"""The API contract: /openapi.json is valid OpenAPI 3.1, matches the URL map, lists every error code,
and holds for thousands of generated requests against the running app on a real redis-server."""

from __future__ import annotations

import ast
import collections
import copy
import json
import re
from pathlib import Path

import pytest
import redis
import requests
import schemathesis
from hypothesis import settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.core import keys, tokens
from shared.core.ids import id_minute
from shared.core.settings import Settings
from shared.messages import triage
from shared.messages.status import MessageStatus
from shared.messages.triage import group_of
from tests.support.processes import ROOT, start_granian
from tests.support.redis_server import free_port
from web import create_app
from web.errors import CODES
from web.openapi import build, parse_docstring, path_of, problems

#: Every response the generated tests got, by operation and status (printed at the end, quoted in the note).
STATUSES: collections.Counter[tuple[str, int]] = collections.Counter()
SLOWEST: list[float] = [0.0]


def document(client) -> dict:
    reply = client.get("/openapi.json")
    assert reply.status_code == 200 and reply.is_json
    return reply.get_json()


def test_document_is_valid_openapi_3_1(client):
    spec = document(client)
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_is_documented_and_nothing_else():
    app = create_app({"SETTINGS": Settings(log_level="WARNING")})
    assert problems(app) == []  # names each undocumented operation and each path parameter left out
    spec = app.test_client().get("/openapi.json").get_json()
    routed = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((method.lower(), path_of(rule.rule)))
    documented = {(method, path) for path, item in spec["paths"].items() for method in item
                  if method in {"get", "post", "put", "delete", "patch"}}
    assert sorted(routed - documented) == [], "routes missing from the document"
    assert sorted(documented - routed) == [], "documented operations with no route"


def test_a_route_without_its_document_is_named_by_the_check():
    from flask import Blueprint

    from web.access import Access, policy

    app = create_app({"SETTINGS": Settings(log_level="WARNING")})
    extra = Blueprint("extra", __name__)

    @extra.get("/extra/<thing>")
    @policy(Access.OPEN)
    def undocumented(thing):
        """Answer something."""
        return thing

    @extra.get("/extra2/<thing>")
    @policy(Access.OPEN)
    def half_documented(thing):
        """Answer something else.

        ---
        responses:
          "200": {description: OK}
        """
        return thing

    app.view_functions["extra.undocumented"] = undocumented
    app.view_functions["extra.half_documented"] = half_documented
    app.url_map.add(app.url_rule_class("/extra/<thing>", endpoint="extra.undocumented", methods=["GET"]))
    app.url_map.add(app.url_rule_class("/extra2/<thing>", endpoint="extra.half_documented", methods=["GET"]))
    app.extensions["fila_policy"].update({"extra.undocumented": undocumented.fila_policy,
                                          "extra.half_documented": half_documented.fila_policy})
    assert problems(app) == [
        "GET /extra/{thing} (extra.undocumented): not documented: put the operation in its view's docstring, "
        "after a --- line",
        "GET /extra2/{thing} (extra.half_documented): path parameter 'thing' is not declared"]
    assert parse_docstring(half_documented.__doc__)[0] == "Answer something else."


def _refused_statuses(function) -> set[str]:
    """Return the statuses a function refuses with, directly (refuse(404, ...)), as written in its source."""
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {str(node.args[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "refuse"
            and node.args and isinstance(node.args[0], ast.Constant)}


def test_every_status_a_view_refuses_with_is_documented():
    app = create_app({"SETTINGS": Settings(log_level="WARNING")})
    spec = build(app)
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        while hasattr(view, "__wrapped__"):
            view = view.__wrapped__
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            responses = spec["paths"][path_of(rule.rule)][method.lower()]["responses"]
            missing += [f"{method} {rule.rule} refuses with {status}" for status in _refused_statuses(view)
                        if status not in responses]
    assert missing == []


def _codes_used() -> set[str]:
    """Find every error code the code refuses with: refuse(status, "code", ...), Refusal(...), Problem("code", ...)."""
    used = set()
    for path in (ROOT / "web").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                index = {"refuse": 1, "Refusal": 1, "Problem": 0}.get(node.func.id)
                if index is not None and len(node.args) > index and isinstance(node.args[index], ast.Constant):
                    used.add(node.args[index].value)
    return used


def test_every_error_code_is_listed_and_every_listed_code_is_used(client):
    spec = document(client)
    listed = spec["components"]["schemas"]["ErrorCode"]
    assert listed["enum"] == list(CODES) and set(listed["x-codes"]) == set(CODES)
    used = _codes_used()
    assert used - set(CODES) == set()
    assert set(CODES) - used == set()


def test_reference_page_shows_every_operation_and_loads_nothing_from_elsewhere(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in document(client)["paths"].items():
        assert f"<code>{path}</code>" in html, path
        assert all(f'method-{method}">{method.upper()}' in html for method in item if method != "parameters")
    assert "<script" not in html and not re.search(r'(src|href)="https?://', html)
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'href="/api/docs"' in client.get("/painel").get_data(as_text=True)


#: The data the generated requests meet: fixed ids, so that the schema's examples (written below) name them.
SEEDED = {"message_id": "01JF0SEED0D0NE000000000000", "dead_id": "01JF0SEED0DEAD000000000000",
          "job_id": "5eed0000000000000000000000000001", "token_id": "", "key": "curso", "name": "fila",
          "n": "10", "chave": "curso", "valor": "Redis", "lista": "minhaLista", "nome": "Maria",
          "filename": "fila.css"}
#: Two dead-letter groups of a letter each (not the dead letter above: the group routes requeue and delete theirs).
GROUPED = {"group": ("01JF0SEED0GR00PA0000000000", "RuntimeError: seeded to requeue"),
           "doomed_group": ("01JF0SEED0GR00PB0000000000", "RuntimeError: seeded to delete")}
SEEDED.update({name: group_of(error)[0] for name, (_, error) in GROUPED.items()})
PASSWORD = "senha-do-schemathesis"
#: A token every generated request carries (the admin and producer routes then answer), and one to revoke.
BEARER, REVOCABLE = "fila_seeded-token-for-every-request-000000000", "fila_seeded-token-to-revoke-00000000000000"
SEEDED["token_id"] = tokens.digest(REVOCABLE)[:16]
#: A valid body for each operation that reads one: the examples phase sends it first.
BODIES = {("POST", "/api/messages"): {"body": {"text": "olá"}}, ("POST", "/api/jobs/fib"): {"n": 10},
          ("POST", "/api/dead/requeue"): {"ids": [SEEDED["dead_id"]]}, ("POST", "/api/dead/purge"): {"confirm": True},
          ("POST", "/api/dead/groups/{group}/requeue"): {"dry_run": True},
          ("POST", "/api/dead/groups/{group}/delete"): {"dry_run": True},
          ("POST", "/api/tokens"): {"name": "ci", "ttl": 60}, ("PUT", "/api/kv/{key}"): {"value": "Redis", "ttl": 60},
          ("POST", "/api/bulk"): "chave1,valor1\n",
          ("POST", "/api/schedules"): {"name": "fila", "every": "1h", "body": {"text": "olá"}},
          ("POST", "/login"): {"username": "admin", "password": PASSWORD, "csrf_token": "from-the-form",
                               "next": "/painel"}}


def seeded_document() -> dict:
    """The app's OpenAPI document with examples that name the seeded data (what a user would send)."""
    spec = build(create_app({"SETTINGS": Settings(log_level="WARNING")}))

    def with_example(path: str, parameters: list[dict]) -> list[dict]:
        out = []
        for parameter in parameters:
            if "$ref" in parameter:  # inlined, so that this operation's example is its own
                parameter = copy.deepcopy(spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]])
            if parameter.get("in") == "path" and parameter["name"] in SEEDED:
                dead = path.startswith("/api/dead/") and parameter["name"] == "message_id"
                doomed = parameter["name"] == "group" and path.endswith("/delete")  # a group of its own to delete
                parameter["example"] = SEEDED["dead_id" if dead else "doomed_group" if doomed else parameter["name"]]
            out.append(parameter)
        return out

    for path, item in spec["paths"].items():
        if "parameters" in item:
            item["parameters"] = with_example(path, item["parameters"])
        for method, operation in item.items():
            if method == "parameters":
                continue
            if "parameters" in operation:
                operation["parameters"] = with_example(path, operation["parameters"])
            body = BODIES.get((method.upper(), path))
            if "$ref" in operation.get("requestBody", {}):  # inlined too, for the example
                name = operation["requestBody"]["$ref"].rsplit("/", 1)[1]
                operation["requestBody"] = copy.deepcopy(spec["components"]["requestBodies"][name])
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if body is not None:
                    media["example"] = body
    return spec


def seed(client, redis_url: str) -> None:
    """Write what the examples name, in fila's own formats: a done message, a dead letter, a finished job..."""
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    from shared.jobs import tasks as rq_jobs
    from shared.messages import record
    from shared.messages.envelope import encode
    from shared.messages.periodic import Schedule, Schedules

    client.set("curso", "Redis")
    client.rpush("minhaLista", "valor1")
    client.hset("umhash", "a", "1")
    client.set(keys.fib(10), "55")
    done_id, dead_id = SEEDED["message_id"], SEEDED["dead_id"]
    client.hset(keys.results("fila", id_minute(done_id)), done_id,
                record.done('"seeded"', 0, 1.0, 2.0, 1.0, '{"words": 1}'))
    client.hset(keys.dead_letters("fila"), dead_id, record.failed(
        MessageStatus.DEAD, "RuntimeError: seeded", "seeded", 5, 1.0, 2.0, 1.0, encode(dead_id, '"morta"', 1.0, 5)))
    client.zadd(keys.dead_index("fila"), {dead_id: 2000})
    for name, (letter, error) in GROUPED.items():  # dead letters filed under their groups, as fila files them
        client.hset(keys.dead_letters("fila"), letter, record.failed(
            MessageStatus.DEAD, error, "seeded", 5, 1.0, 2.0, 1.0, encode(letter, '"agrupada"', 1.0, 5)))
        client.zadd(keys.dead_index("fila"), {letter: 1000})
        client.zadd(keys.dead_group("fila", SEEDED[name]), {letter: 1000})
        client.hset(keys.dead_group_of("fila"), letter, SEEDED[name])
        client.hset(keys.dead_groups("fila"), SEEDED[name], triage.signature(error))
    Schedules(client, Settings()).add(Schedule("fila", '{"text":"olá"}', every_ms=3_600_000, created_ms=1000))
    for secret in (BEARER, REVOCABLE):
        digest = tokens.digest(secret)
        client.set(keys.token(digest), json.dumps({"id": digest[:16], "name": "seeded", "created_at": 1.0,
                                                   "expires_at": 4e9}))
        client.zadd(keys.TOKENS, {digest: 4e9})
    rq_redis = redis.Redis.from_url(redis_url)
    queue = Queue(Settings().job_queue_name, connection=rq_redis, serializer=JSONSerializer)
    queue.enqueue(rq_jobs.fibonacci, args=(10, "fast", 60), job_id=SEEDED["job_id"], result_ttl=3600)
    SimpleWorker([queue], connection=rq_redis, serializer=JSONSerializer).work(burst=True)


@pytest.fixture(scope="module")
def served(redis_server, tmp_path_factory):
    """fila under granian on the session's redis-server (an admin password set), seeded with what the examples name."""
    client = redis_server.client()
    client.flushall()
    seed(client, redis_server.url)
    app_settings = Settings(redis_url=redis_server.url, log_level="WARNING", admin_password=PASSWORD)
    port = free_port()
    server = start_granian(app_settings, port, workers=1, threads=4)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        client.flushall()


# The document the app serves, with examples naming the seeded data (test_served_document_is_the_package_s
# checks the rest is the same). Built from the package rather than fetched: schemathesis' fixture loader
# does not run under pytest 9 (it reads a private attribute of pytest's nodes, `_nodeid`).
schema = schemathesis.openapi.from_dict(seeded_document())


def test_served_document_is_the_package_s(client, app):
    assert document(client) == json.loads(json.dumps(build(app)))


def login_session(base_url: str) -> requests.Session:
    """A browser's session on /login: its cookie, and the form's CSRF token (sent as the form's field)."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10).text
    session.csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[attr-defined]
    return session


@schema.parametrize()
@settings(max_examples=100, deadline=None)
def test_generated_requests_get_documented_answers(case, served):
    session = None
    if case.operation.label == "POST /login" and isinstance(case.body, dict) and \
            case.body.get("csrf_token") == "from-the-form":
        session = login_session(served)  # the example signs in as a browser does: the form's cookie and token
        case.body = {**case.body, "csrf_token": session.csrf_token}
    headers = {} if session else {"Authorization": f"Bearer {BEARER}"}
    response = case.call_and_validate(base_url=served, headers=headers, session=session, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
        response_headers_conformance, negative_data_rejection])
    STATUSES[(case.operation.label, response.status_code)] += 1
    SLOWEST[0] = max(SLOWEST[0], response.elapsed)


def test_every_operation_succeeded_at_least_once():
    """What the generated requests proved: each operation answered a success (2xx, or a login's 302) at least once."""
    operations = {f"{method.upper()} {path}" for path, item in seeded_document()["paths"].items()
                  for method in item if method != "parameters"}
    succeeded = {operation for (operation, status), count in STATUSES.items() if 200 <= status < 400 and count}
    assert STATUSES, "the generated requests ran first"
    assert sorted(operations - succeeded) == []


def pytest_sessionfinish_report() -> str:
    """Summarise the generated requests: how many, per status, the slowest."""
    per_status = collections.Counter()
    for (_operation, status), count in STATUSES.items():
        per_status[status] += count
    operations = {operation for operation, _ in STATUSES}
    return (f"{sum(STATUSES.values())} generated requests over {len(operations)} operations; by status: "
            + ", ".join(f"{status}: {count}" for status, count in sorted(per_status.items()))
            + f"; slowest {SLOWEST[0] * 1000:.1f} ms")


@pytest.fixture(scope="module", autouse=True)
def report_the_spread():
    yield
    if STATUSES:
        out = Path(ROOT / "var" / "schemathesis.json")
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"summary": pytest_sessionfinish_report(),
                                   "statuses": {f"{op} -> {status}": n for (op, status), n in STATUSES.items()}},
                                  indent=1))
        print("\n" + pytest_sessionfinish_report())
