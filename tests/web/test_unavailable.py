"""Redis down: every Redis route answers 503 fast; Redis back: the app recovers by itself."""

from __future__ import annotations

import re
import time

import pytest

from shared.core.settings import Settings
from tests.support.redis_server import RedisServer
from web import create_app

#: A valid value for each URL parameter (a route must get past its input checks to reach Redis).
SAMPLES = {"chave": "curso", "valor": "Redis", "lista": "minhaLista", "nome": "Maria", "n": "10", "key": "curso",
           "message_id": "01M8AKS6Q7JGTGH5J7BPCXBTED", "job_id": "0123456789abcdef0123456789abcdef",
           "token_id": "0123456789abcdef", "name": "fila", "filename": "fila.css", "group": "0123456789abcdef"}
#: A valid body for each route that reads one.
BODIES = {("POST", "/api/messages"): {"json": {"body": 1}},
          ("POST", "/api/queues/<name>/messages"): {"json": {"body": 1}},
          ("POST", "/api/dead/groups/<group>/requeue"): {"json": {"dry_run": True}},
          ("POST", "/api/dead/groups/<group>/delete"): {"json": {"dry_run": True}},
          ("POST", "/api/jobs/fib"): {"json": {"n": 10}},
          ("POST", "/api/dead/requeue"): {"json": {"all": True}},
          ("POST", "/api/dead/purge"): {"json": {"confirm": True}}, ("PUT", "/api/kv/<key>"): {"json": {"value": "v"}},
          ("POST", "/api/bulk"): {"data": b"a,b", "content_type": "text/csv"},
          ("POST", "/api/tokens"): {"json": {"name": "ci", "ttl": 60}},
          ("POST", "/api/schedules"): {"json": {"name": "fila", "every": "30s", "body": 1}}}
#: The routes that answer without Redis; every other one must answer 503 while it is down.
WITHOUT_REDIS = {"/sem-redis", "/inicio", "/sobre", "/contato", "/usuario/<nome>", "/fib/<n>", "/healthz", "/metrics",
                 "/openapi.json", "/api/docs", "/static/<path:filename>", "/login", "/logout", "/painel"}


def redis_routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, URL) of every route that needs Redis, from the URL map, its parameters filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule in WITHOUT_REDIS:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES[m[1]], rule.rule)
        out += [(method, rule.rule, url) for method in sorted(rule.methods - {"OPTIONS"})]
    return out


@pytest.fixture
def own_server(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def test_down_then_back(own_server):
    app = create_app({"SETTINGS": Settings(redis_url=own_server.url, log_level="WARNING"), "TESTING": True})
    client = app.test_client()
    assert client.get("/set/curso/Redis").status_code == 200
    own_server.stop()
    routes = redis_routes(app)
    assert len(routes) > 40  # every method of every Redis route
    for method, rule, url in routes:
        start = time.monotonic()
        response = client.open(url, method=method, **BODIES.get((method, rule), {}))
        elapsed = time.monotonic() - start
        assert response.status_code == 503, (method, url, response.status_code)
        assert elapsed < 1.0, (method, url, elapsed)
        assert b"Traceback" not in response.data
        assert response.headers["Retry-After"] == "1", (method, url)
    unavailable = client.get("/api/kv/curso").get_json()
    assert unavailable["error"] == "redis_unavailable" and unavailable["message"].startswith("Redis is unavailable")
    for rule in WITHOUT_REDIS - {"/logout"}:
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES[m[1]], rule)
        assert client.get(path).status_code == 200, path
    metrics = client.get("/metrics")  # still answers, saying Redis is down: an alert can fire on it
    assert metrics.status_code == 200 and "fila_redis_up 0.0" in metrics.get_data(as_text=True)
    assert "fila_build_info{" in metrics.get_data(as_text=True)
    own_server.start()
    assert client.get("/readyz").status_code == 200
    assert "fila_redis_up 1.0" in client.get("/metrics").get_data(as_text=True)
    assert client.get("/get/curso").get_data(as_text=True) == "Valor recuperado: Redis"


def test_nothing_listening_fails_within_a_second():
    # Port 1 on loopback: nobody listens, so the client must give up at once, not after redis-py's retries.
    app = create_app({"SETTINGS": Settings(redis_url="redis://127.0.0.1:1/0", log_level="WARNING"),
                      "TESTING": True})
    start = time.monotonic()
    assert app.test_client().get("/").status_code == 503
    assert time.monotonic() - start < 1.0
