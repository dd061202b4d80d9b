"""Redis down: every Redis route answers 503 fast; Redis back: the app recovers by itself."""

from __future__ import annotations

import time

import pytest

from shared.settings import Settings
from tests.support.redis_server import RedisServer
from web import create_app

REDIS_ROUTES = ["/", "/set/curso/Redis", "/get/curso", "/push/minhaLista/v", "/pop/minhaLista",
                "/listar/minhaLista", "/fib-cache/10", "/fib-job/40", "/readyz", "/api/kv/curso", "/api/queues",
                "/api/workers", "/api/dead", "/api/messages/01M8AKS6Q7JGTGH5J7BPCXBTED", "/api/painel", "/api/history",
                "/api/jobs/0123456789abcdef0123456789abcdef"]
POSTS = [("/api/messages", {"body": 1}), ("/api/jobs/fib", {"n": 10}), ("/api/dead/requeue", {"all": True}),
         ("/api/dead/purge", {"confirm": True}), ("/api/queues/fila/pause", None)]


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
    for path in REDIS_ROUTES:
        start = time.monotonic()
        response = client.get(path)
        elapsed = time.monotonic() - start
        assert response.status_code == 503, path
        assert elapsed < 1.0, (path, elapsed)
        assert b"Traceback" not in response.data
    for path, payload in POSTS:
        start = time.monotonic()
        response = client.post(path, json=payload)
        assert response.status_code == 503 and time.monotonic() - start < 1.0, path
    assert client.post("/api/bulk", data=b"a,b", content_type="text/csv").status_code == 503
    unavailable = client.get("/api/kv/curso").get_json()
    assert unavailable["error"] == "redis_unavailable" and unavailable["message"].startswith("Redis is unavailable")
    assert client.get("/healthz").status_code == 200
    metrics = client.get("/metrics")  # still answers, saying Redis is down: an alert can fire on it
    assert metrics.status_code == 200 and "fila_redis_up 0.0" in metrics.get_data(as_text=True)
    assert "fila_build_info{" in metrics.get_data(as_text=True)
    assert client.get("/sem-redis").status_code == 200
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
