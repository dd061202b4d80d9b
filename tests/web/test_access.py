"""Who may do what: rate limits (INCR in Redis), operators' sessions (Redis, TTL), CSRF, API tokens (SETEX)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time

import pytest

from shared.core import keys
from tests.support.processes import child_env
from tests.support.redis_server import RedisServer
from web import create_app
from web.access import Access, declared, policy_table

PASSWORD = "segredo-do-operador"


def app_with(settings, **changes):
    return create_app({"SETTINGS": dataclasses.replace(settings, **changes), "TESTING": True})


@pytest.fixture
def locked(settings):
    """An app with an admin password: admin routes need a session or a token."""
    return app_with(settings, admin_password=PASSWORD, session_ttl=60)


def csrf_token(client, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, "the form carries a CSRF token"
    return match[1]


def sign_in(client, password: str = PASSWORD):
    return client.post("/login", data={"username": "admin", "password": password, "csrf_token": csrf_token(client),
                                       "next": "/painel"})


def session_keys(rdb) -> list[str]:
    return list(rdb.scan_iter(f"{keys.SESSION_PREFIX}*"))


def test_every_route_declares_its_access_where_it_is_defined(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    table = policy_table(app)
    assert endpoints == set(table)
    assert all(isinstance(found.access, Access) for found in table.values())


def test_a_view_without_a_declared_access_stops_the_app(settings):
    from flask import Blueprint, Flask

    from web import access, services

    stray = Blueprint("stray", __name__)

    @stray.route("/stray")
    def undeclared():
        return "x"

    app = Flask(__name__)
    app.register_blueprint(stray)
    with pytest.raises(RuntimeError, match=r"stray\.undeclared declares no access"):
        access.init_app(app, services.init_app(app, settings))
    assert declared(undeclared) is None


def test_429_after_the_limit_with_retry_after_and_the_rate_limit_headers(settings, rdb):
    client = app_with(settings, rate_limit_writes="3/minute").test_client()
    answers = [client.get(f"/set/chave{i}/v") for i in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3" and answers[2].headers["X-RateLimit-Remaining"] == "0"
    refused = answers[3]
    assert 0 < int(refused.headers["Retry-After"]) <= 60 and "X-RateLimit-Reset" in refused.headers
    assert refused.get_data(as_text=True).startswith("Erro: requisições demais")
    assert rdb.get("chave3") is None  # refused: nothing written
    as_json = client.get("/set/outra/v", headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and as_json.get_json()["error"] == "rate_limited"
    assert any(key.startswith(keys.LIMITS_PREFIX) for key in rdb.scan_iter("fila:*"))  # counted in Redis
    assert client.get("/get/chave0").status_code == 200  # reads are not writes


def test_the_client_is_its_socket_unless_behind_trusted_proxies(settings, rdb):
    direct = app_with(settings, rate_limit_writes="2/minute").test_client()
    spoofed = [direct.get("/set/a/v", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert spoofed == [200, 200, 429]  # X-Forwarded-For is ignored: anyone could write one
    rdb.flushall()
    proxied = app_with(settings, rate_limit_writes="2/minute", trusted_proxies=1).test_client()
    forwarded = [proxied.get("/set/a/v", headers={"X-Forwarded-For": f"10.0.0.{i % 2}"}).status_code
                 for i in range(4)]
    assert forwarded == [200, 200, 200, 200]  # two clients behind the proxy: two counters
    assert proxied.get("/set/a/v", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429


def test_with_redis_down_the_login_limit_still_holds(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    from shared.core.settings import Settings

    try:
        client = create_app({"SETTINGS": Settings(redis_url=server.url, log_level="ERROR", admin_password=PASSWORD,
                                                  rate_limit_login="3/minute"), "TESTING": True}).test_client()
        token = csrf_token(client)
    finally:
        server.stop()
    answers = [client.post("/login", data={"username": "admin", "password": "x", "csrf_token": token}).status_code
               for _ in range(4)]
    # Sessions need Redis (503), and meanwhile the limit counts in the process's memory (the documented
    # choice): never a 500, and the fourth attempt is refused all the same.
    assert answers == [503, 503, 503, 429]
    assert client.get("/api/painel", headers={"Authorization": "Bearer fila_x"}).status_code == 503


def test_the_limit_demonstration_counts_with_incr_and_expire(client, rdb):
    texts = [client.get("/limite") for _ in range(6)]
    assert [t.status_code for t in texts] == [200] * 5 + [429]
    assert texts[0].get_data(as_text=True).startswith("Requisição 1 de 5 nesta janela de 60 s")
    assert texts[5].get_data(as_text=True).startswith("Erro: ") is False  # the handout's own words
    assert "Limite de 5 requisições por 60 s atingido" in texts[5].get_data(as_text=True)
    assert 0 < int(texts[5].headers["Retry-After"]) <= 60
    (key,) = rdb.keys(f"{keys.LIMIT_DEMO_PREFIX}*")
    assert rdb.get(key) == "6" and 0 < rdb.ttl(key) <= 60
    assert client.get("/set/limite:x/y").status_code == 400  # the demonstration's keys are its own


def test_admin_routes_need_a_session_and_the_handout_stays_open(locked, rdb):
    client = locked.test_client()
    for path in ("/", "/set/curso/Redis", "/get/curso", "/push/minhaLista/valor1", "/listar/minhaLista",
                 "/fib-cache/30", "/sobre", "/usuario/Maria", "/api/queues", "/healthz"):
        assert client.get(path).status_code == 200, path
    denied = client.get("/api/painel")
    assert denied.status_code == 401 and denied.get_json()["error"] == "unauthorized"
    assert client.post("/api/queues/fila/pause").status_code == 401
    assert client.get("/api/dead").status_code == 401
    page = client.get("/painel", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/painel")


def test_a_session_in_redis_with_a_ttl_refreshed_on_use_and_deleted_on_logout(locked, rdb):
    client = locked.test_client()
    assert sign_in(client, "errada").status_code == 401
    assert client.get("/api/painel").status_code == 401
    before = set(session_keys(rdb))  # the form's CSRF token lives in an anonymous session
    answer = sign_in(client)
    assert answer.status_code == 302 and answer.headers["Location"] == "/painel"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    (key,) = session_keys(rdb)
    assert key not in before  # signing in starts a new session id (no session fixation)
    assert 0 < rdb.ttl(key) <= 60
    rdb.expire(key, 10)
    assert client.get("/api/painel").status_code == 200
    assert rdb.ttl(key) > 50  # used: its expiry moved on
    page = client.get("/painel").get_data(as_text=True)
    assert 'name="csrf-token"' in page and "Sair (admin)" in page
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/painel")}).status_code == 302
    assert session_keys(rdb) == []
    assert client.get("/api/painel").status_code == 401


def test_a_session_that_expires_in_redis_signs_the_operator_out(locked, rdb):
    client = locked.test_client()
    sign_in(client)
    (key,) = session_keys(rdb)
    rdb.pexpire(key, 50)
    time.sleep(0.1)
    assert not rdb.exists(key)
    assert client.get("/api/painel").status_code == 401


def test_forms_and_changes_without_their_csrf_token_are_refused(locked, rdb):
    client = locked.test_client()
    no_token = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert no_token.status_code == 400 and session_keys(rdb) == []
    sign_in(client)
    refused = client.post("/api/queues/fila/pause")
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed"
    assert not rdb.exists(keys.paused("fila"))
    token = csrf_token(client, "/painel")
    assert client.post("/api/queues/fila/pause", headers={"X-CSRFToken": token}).get_json()["paused"] is True
    cross = client.post("/api/queues/fila/resume", headers={"X-CSRFToken": token, "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and cross.get_json()["error"] == "cross_site"
    assert rdb.exists(keys.paused("fila"))


def test_cookies_are_secure_over_https(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD, trusted_proxies=1).test_client()
    token = csrf_token(client)
    answer = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                         headers={"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"})
    assert answer.status_code == 302 and "Secure" in answer.headers["Set-Cookie"]


def test_tokens_are_shown_once_kept_hashed_and_die_with_their_ttl_or_when_revoked(locked, rdb):
    client = locked.test_client()
    sign_in(client)
    csrf = {"X-CSRFToken": csrf_token(client, "/painel")}
    made = client.post("/api/tokens", json={"name": "ci", "ttl": 60}, headers=csrf)
    assert made.status_code == 201
    secret = made.get_json()["token"]
    assert secret.startswith("fila_") and len(secret) > 40
    stored = {key: rdb.get(key) for key in rdb.scan_iter("fila:token:*")}
    assert len(stored) == 1 and not any(secret in key or secret in value for key, value in stored.items())
    assert 0 < rdb.ttl(next(iter(stored))) <= 60
    assert secret not in client.get("/api/tokens").get_data(as_text=True)

    robot = locked.test_client()  # no session: the token alone
    bearer = {"Authorization": f"Bearer {secret}"}
    assert robot.get("/api/dead", headers=bearer).status_code == 200
    assert robot.post("/api/queues/fila/pause", headers=bearer).status_code == 200  # no CSRF for a token
    short = client.post("/api/tokens", json={"name": "short", "ttl": 1}, headers=csrf).get_json()["token"]
    assert robot.get("/api/dead", headers={"Authorization": f"Bearer {short}"}).status_code == 200
    time.sleep(1.2)
    expired = robot.get("/api/dead", headers={"Authorization": f"Bearer {short}"})
    assert expired.status_code == 401 and "expired" in expired.get_json()["message"]
    token_id = made.get_json()["id"]
    assert client.delete(f"/api/tokens/{token_id}", headers=csrf).get_json() == {"revoked": token_id}
    assert robot.get("/api/dead", headers=bearer).status_code == 401
    assert robot.get("/api/dead", headers={"Authorization": "Bearer fila_made-up"}).status_code == 401


def test_the_producer_api_needs_a_token_only_when_configured(settings, rdb):
    open_api = app_with(settings).test_client()
    assert open_api.post("/api/messages", json={"body": 1}).status_code == 202
    guarded = app_with(settings, api_tokens_required=True, admin_password=PASSWORD).test_client()
    assert guarded.post("/api/messages", json={"body": 1}).status_code == 401
    from shared.core import tokens

    secret, _ = tokens.create(rdb, "producer", 60)
    accepted = guarded.post("/api/messages", json={"body": 1}, headers={"Authorization": f"Bearer {secret}"})
    assert accepted.status_code == 202
    assert guarded.get("/set/curso/Redis").status_code == 200  # the handout stays open


def test_the_admin_password_is_kept_hashed_and_may_be_given_hashed(settings):
    app = app_with(settings, admin_password=PASSWORD)
    kept = app.extensions["fila_access"]["admin_hash"]
    assert kept.startswith("scrypt:") and PASSWORD not in kept
    from werkzeug.security import generate_password_hash

    hashed = app_with(settings, admin_password=generate_password_hash("outra", method="scrypt")).test_client()
    assert sign_in(hashed, "outra").status_code == 302


def test_fila_token_create_prints_a_working_token(settings, locked):
    run = subprocess.run([sys.executable, "-m", "cli", "token", "create", "--ttl", "3600", "--name", "ci"],
                         capture_output=True, text=True, env=child_env(settings, {"FILA_LANGUAGE": "en"}), timeout=30)
    assert run.returncode == 0 and "only time it is shown" in run.stderr
    assert f"fila: Redis {settings.redis_url} (from REDIS_URL)" in run.stderr
    secret = run.stdout.strip()
    client = locked.test_client()
    assert client.get("/api/dead", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = subprocess.run([sys.executable, "-m", "cli", "token", "list"], capture_output=True, text=True,
                            env=child_env(settings, {"FILA_LANGUAGE": "pt-BR"}), timeout=30).stdout
    assert "ci  expira em" in listed
