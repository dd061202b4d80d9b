"""The API contract: /openapi.json is valid OpenAPI 3.1, matches the URL map, lists every error code,
and holds for thousands of generated requests against the running app on a real redis-server."""

from __future__ import annotations

import ast
import collections
import json
import re
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.settings import Settings
from tests.support.processes import ROOT, start_granian
from tests.support.redis_server import free_port
from web import create_app
from web.api_docs import load
from web.errors import CODES

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
    spec = app.test_client().get("/openapi.json").get_json()
    routed = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((method.lower(), path))
    documented = {(method, path) for path, item in spec["paths"].items() for method in item
                  if method in {"get", "post", "put", "delete", "patch"}}
    assert sorted(routed - documented) == [], "routes missing from web/openapi.yaml"
    assert sorted(documented - routed) == [], "documented operations with no route"


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


@pytest.fixture(scope="module")
def served(redis_server, tmp_path_factory):
    """fila under granian on the session's redis-server, seeded with one key of each type the routes meet."""
    client = redis_server.client()
    client.flushall()
    client.set("curso", "Redis")
    client.rpush("minhaLista", "valor1")
    client.hset("umhash", "a", "1")
    app_settings = Settings(redis_url=redis_server.url, log_level="WARNING")
    port = free_port()
    server = start_granian(app_settings, port, workers=1, threads=4)
    yield f"http://127.0.0.1:{port}"
    server.stop()
    client.flushall()


# The document the app serves (test_served_document_is_the_package_s checks they are the same). Built from
# the package rather than fetched: schemathesis' fixture loader does not run under pytest 9 (it reads a
# private attribute of pytest's nodes, `_nodeid`).
schema = schemathesis.openapi.from_dict(load(create_app({"SETTINGS": Settings(log_level="WARNING")})))


def test_served_document_is_the_package_s(client, app):
    assert document(client) == json.loads(json.dumps(load(app)))


@schema.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case, served):
    response = case.call_and_validate(base_url=served, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
        response_headers_conformance, negative_data_rejection])
    STATUSES[(case.operation.label, response.status_code)] += 1
    SLOWEST[0] = max(SLOWEST[0], response.elapsed)
    assert response.elapsed < 1.0, f"{case.method} {case.path} took {response.elapsed:.3f}s"


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
