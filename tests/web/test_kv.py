"""The key-value store as REST on /api/kv/<key>."""

from __future__ import annotations

from tests.support.polling import user_keys


def test_put_get_delete_cycle(client, rdb):
    created = client.put("/api/kv/curso", json={"value": "Redis"})
    assert created.status_code == 201
    assert client.put("/api/kv/curso", json={"value": "Redis 7"}).status_code == 200
    assert client.get("/api/kv/curso").get_json() == {"key": "curso", "value": "Redis 7", "ttl": None}
    assert client.head("/api/kv/curso").status_code == 200
    assert client.delete("/api/kv/curso").status_code == 204
    assert client.get("/api/kv/curso").status_code == 404
    assert client.head("/api/kv/curso").status_code == 404
    assert client.delete("/api/kv/curso").status_code == 404


def test_put_with_ttl(client, rdb):
    assert client.put("/api/kv/sessao", json={"value": "abc", "ttl": 30}).status_code == 201
    assert 0 < rdb.ttl("sessao") <= 30
    assert client.put("/api/kv/token?ttl=5", data="xyz", content_type="text/plain").status_code == 201
    assert rdb.get("token") == "xyz"
    assert 0 < client.get("/api/kv/token").get_json()["ttl"] <= 5


def test_options_lists_methods(client):
    allow = {m.strip() for m in client.options("/api/kv/x").headers["Allow"].split(",")}
    assert {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"} <= allow


def test_bad_requests(client, rdb):
    assert client.put("/api/kv/x", json={"value": 3}).status_code == 400
    assert client.put("/api/kv/x", json={"value": "v", "ttl": -1}).status_code == 400
    assert client.put("/api/kv/x", json={"value": "v", "ttl": "abc"}).status_code == 400
    assert client.put("/api/kv/hits", json={"value": "v"}).status_code == 400
    assert client.delete("/api/kv/rq:queues").status_code == 400
    assert client.post("/api/kv/x").status_code == 405
    assert len(user_keys(rdb)) == 0
    reply = client.put("/api/kv/fib:9", json={"value": "1"}).get_json()
    assert reply["error"] == "reserved_name" and "Fibonacci cache" in reply["message"]
