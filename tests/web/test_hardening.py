"""What an adversarial probe broke, one test per class of input, on a real redis-server (real HTTP for framing).

Each test failed before its fix (the note on issue 19 says how each failed).
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
import time
from urllib.parse import quote

import psutil
import pytest
import requests

from shared.core import keys, tokens
from shared.messages.envelope import encode
from shared.messages.queue import MessageQueue
from tests.support.polling import wait_for
from tests.support.processes import start_granian, start_worker
from tests.support.redis_server import free_port
from web import create_app

PASSWORD = "segredo-do-operador"
JSON = {"Accept": "application/json"}


def app_with(settings, **changes):
    return create_app({"SETTINGS": dataclasses.replace(settings, **changes), "TESTING": True})


def csrf_token(client, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match[1]


def sign_in(client, password: str = PASSWORD):
    return client.post("/login", data={"username": "admin", "password": password, "csrf_token": csrf_token(client)})


def rss(process: psutil.Process) -> int:
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


class PeakRss:
    """Sample a process tree's RSS every 10 ms while a block runs; `growth` is the peak over the start."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.start = self.peak = rss(self.process)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss(self.process))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.process))

    @property
    def growth(self) -> int:
        return self.peak - self.start


def chunked(port: int, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    """POST `body` with Transfer-Encoding: chunked (no Content-Length); return the status and the answer's body."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: fila\r\nContent-Type: {content_type}\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
        try:
            for start in range(0, len(body), 1 << 16):
                piece = body[start:start + (1 << 16)]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading it all: the answer is what counts
        answer = b""
        while chunk := sock.recv(1 << 16):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), content


@pytest.fixture
def served(settings):
    """The web under granian as compose runs it (2 processes x 2 threads), with the shipped settings."""
    port = free_port()
    server = start_granian(settings, port, workers=2, threads=2)
    try:
        yield port, server
    finally:
        server.stop()


# 1: tests/deploy/test_redis_users.py (every user, on the script compose runs) and the compose journey.


# 2: a bulk body at the size limit: bounded memory, a bounded answer.
def test_bulk_at_the_size_limit_keeps_the_web_s_memory_and_its_answer_bounded(settings, rdb, served):
    port, server = served
    line = b"semvirgula\n"
    body = line * (settings.request_max_bytes // len(line))
    with PeakRss(server.pid) as memory:
        started = time.monotonic()
        reply = requests.post(f"http://127.0.0.1:{port}/api/bulk", data=body, headers={"Content-Type": "text/csv"},
                              timeout=120)
        seconds = time.monotonic() - started
    answer = reply.json()
    print(f"\nbulk of {len(body):,} bytes: {seconds:.2f} s, answer {len(reply.content):,} bytes, "
          f"web RSS +{memory.growth / 1e6:.1f} MB")
    assert reply.status_code == 400 and answer["loaded"] == 0
    assert answer["rejected_count"] == answer["lines"] == len(body) // len(line)
    assert len(answer["rejected"]) == 100 and answer["rejected"][99]["line"] == 100
    assert len(reply.content) < 16_384
    assert memory.growth < 100e6  # the body (16 MB) plus a byte per line, never a copy per line
    assert rdb.dbsize() <= 1  # at most the rate limiter's counter


def test_bulk_refuses_a_key_of_another_type_and_changes_nothing(client, rdb):
    rdb.rpush("minhaLista", "valor1")
    reply = client.post("/api/bulk", data=b"chave1,v1\nminhaLista,texto\nchave2,v2\n", content_type="text/csv")
    assert reply.status_code == 409 and reply.get_json()["error"] == "wrong_type"
    assert reply.get_json()["key"] == "minhaLista" and reply.get_json()["type"] == "list"
    assert rdb.type("minhaLista") == "list" and rdb.lrange("minhaLista", 0, -1) == ["valor1"]
    assert rdb.exists("chave1", "chave2") == 0


# 3: a forged envelope never claims an id fila issued.
def test_the_queue_list_refuses_envelopes_through_the_handout_s_routes(client, rdb):
    message_id = client.post("/api/messages", json={"body": "real"}).get_json()["ids"][0]
    forged = encode(message_id, '"forged"', 1.0)
    reply = client.get(f"/push/fila/{quote(forged, safe='')}")
    assert reply.status_code == 400 and "envelopes" in reply.get_data(as_text=True)
    assert rdb.llen("fila") == 1
    assert client.get(f"/push/minhaLista/{quote(forged, safe='')}").status_code == 200  # a student's list: data


def test_a_forged_envelope_is_wrapped_under_a_new_id_by_take_claim_and_pop(settings, rdb):
    messages = MessageQueue(rdb, settings)
    (done_id,) = messages.enqueue(['"real"'])
    rdb.hdel(keys.pending("fila"), done_id)  # as if settled long ago
    rdb.delete("fila")
    (queued_id,) = messages.enqueue(['"queued"'])
    forged_done, forged_queued = encode(done_id, '"forged"', 1.0), encode(queued_id, '"copy"', 1.0)
    rdb.lpush("fila", forged_done, forged_queued)  # behind the real one: the copy comes second
    taken = messages.take("w1", 10)
    ids = [json.loads(entry)["id"] for entry in taken]
    assert ids[0] == queued_id and json.loads(taken[0])["body"] == "queued"
    assert done_id not in ids and ids.count(queued_id) == 1 and len(set(ids)) == 3
    assert [json.loads(entry)["body"] for entry in taken[1:]] == [forged_done, forged_queued]  # whole, as data
    assert rdb.lrange(keys.processing("w1"), 0, -1) == taken  # the list holds what the worker was given
    assert {rdb.hget(keys.pending("fila"), i) for i in ids} == {"w1"}
    # The blocking paths claim too: BLMOVE (the processing list's tail is rewritten) and BRPOP.
    rdb.lpush("fila", forged_done)
    entry = messages.take_blocking("w2", 1)
    assert json.loads(entry)["id"] != done_id and rdb.lindex(keys.processing("w2"), -1) == entry
    rdb.lpush("fila", forged_done, forged_done)
    popped = [messages.pop_blocking("w3", 1), *messages.pop("w3", 5)]
    assert len(popped) == 2 and done_id not in {json.loads(e)["id"] for e in popped}


def test_a_worker_never_overwrites_a_result_with_a_forged_envelope(settings, rdb, client):
    worker = start_worker(settings)
    try:
        message_id = client.post("/api/messages", json={"body": "real"}).get_json()["ids"][0]
        done = wait_for(lambda: client.get(f"/api/messages/{message_id}").get_json()["status"] == "done")
        assert done
        before = client.get(f"/api/messages/{message_id}").get_json()
        rdb.lpush("fila", encode(message_id, '"forged"', 1.0))  # by hand, as redis-cli would
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) == 2, timeout=10,
                 message="the forged envelope processed, as a message of its own")
        assert client.get(f"/api/messages/{message_id}").get_json() == before
        (newest,) = rdb.lrange(keys.RECENT, 0, 0)
        assert newest != message_id and client.get(f"/api/messages/{newest}").get_json()["status"] == "done"
    finally:
        worker.stop()


# 4: with tokens required, fila's own keys need one on the handout's routes too.
def test_the_handout_s_routes_on_fila_s_own_keys_need_a_token_when_producers_do(settings, rdb):
    guarded = app_with(settings, api_tokens_required=True, admin_password=PASSWORD).test_client()
    rdb.lpush("fila", "queued body")
    for path in ("/listar/fila", "/pop/fila", "/push/fila/x", "/get/fila:stats:fila", "/listar/rq:queue:fib",
                 "/get/rq:job:x"):
        assert guarded.get(path, headers=JSON).status_code == 401, path
    assert rdb.lrange("fila", 0, -1) == ["queued body"]  # nothing read, popped or pushed
    secret, _ = tokens.create(rdb, "producer", 60)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert guarded.get("/listar/fila", headers=bearer).status_code == 200
    assert guarded.get("/push/fila/x", headers=bearer).status_code == 200
    for path in ("/push/minhaLista/v", "/listar/minhaLista", "/set/curso/Redis", "/get/curso"):
        assert guarded.get(path).status_code == 200, path  # the student's keys stay open
    open_lab = app_with(settings).test_client()  # make run: no tokens, the handout as written
    assert open_lab.get("/listar/fila").status_code == 200 and open_lab.get("/pop/fila").status_code == 200


# 5: a session's key name is not its cookie; a new password or age ends a session.
def test_a_session_key_seen_in_redis_does_not_log_in(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD).test_client()
    assert sign_in(client).status_code == 302
    (key,) = rdb.scan_iter(f"{keys.SESSION_PREFIX}*")
    cookie = client.get_cookie("fila_session").value
    assert cookie not in key and key.removeprefix(keys.SESSION_PREFIX) != cookie
    thief = app_with(settings, admin_password=PASSWORD).test_client()
    thief.set_cookie("fila_session", key.removeprefix(keys.SESSION_PREFIX))
    assert thief.get("/api/painel").status_code == 401
    assert client.get("/api/painel").status_code == 200


def test_changing_the_admin_password_ends_every_session(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD).test_client()
    sign_in(client)
    cookie = client.get_cookie("fila_session").value
    after = app_with(settings, admin_password="a-nova-senha").test_client()
    after.set_cookie("fila_session", cookie)
    assert after.get("/api/painel").status_code == 401
    assert list(rdb.scan_iter(f"{keys.SESSION_PREFIX}*")) == []  # the stale session is gone from Redis


def test_a_session_ends_at_its_maximum_age_however_busy(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD, session_max_age=1).test_client()
    sign_in(client)
    assert client.get("/api/painel").status_code == 200
    wait_for(lambda: client.get("/api/painel").status_code == 401, timeout=5, interval=0.2,
             message="the session ended at SESSION_MAX_AGE")


# 6: a body over the limit is 413 however it is framed, and nothing of it is stored.
def test_chunked_bodies_over_the_limit_get_413_and_store_nothing(settings, rdb, served):
    port, _ = served
    lines = b"".join(b"chave%07d,%s\n" % (i, b"v" * 86) for i in range(settings.request_max_bytes // 100 + 2000))
    assert len(lines) > settings.request_max_bytes
    assert chunked(port, "/api/bulk", lines, "text/csv")[0] == 413
    text = b"x" * 90 + b"\n"
    assert chunked(port, "/api/messages", text * (settings.request_max_bytes // 91 + 100), "text/plain")[0] == 413
    assert rdb.dbsize() == 0 or all(key.startswith(keys.LIMITS_PREFIX) for key in rdb.scan_iter())
    status, answer = chunked(port, "/api/bulk", b"chave1,valor1\nchave2,valor2\n", "text/csv")  # under it: fine
    assert status == 200 and json.loads(answer)["loaded"] == 2 and rdb.get("chave2") == "valor2"


# 7: deep nesting is a 400 on every JSON route, and changes nothing.
JSON_ROUTES = [("PUT", "/api/kv/k"), ("POST", "/api/messages"), ("POST", "/api/jobs/fib"), ("POST", "/api/tokens"),
               ("POST", "/api/dead/requeue"), ("POST", "/api/dead/purge"), ("POST", "/api/schedules")]


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
@pytest.mark.parametrize("depth", [65, 990, 100_000])
def test_deeply_nested_json_is_refused_on_every_json_route(client, rdb, method, path, depth):
    body = "[" * depth + "]" * depth
    reply = client.open(path, method=method, data=body, content_type="application/json")
    assert reply.status_code == 400 and reply.get_json()["error"] == "bad_json", reply.get_data()[:200]
    assert "nested deeper than 64" in reply.get_json()["message"]
    assert rdb.dbsize() == 0 or all(key.startswith(keys.LIMITS_PREFIX) for key in rdb.scan_iter())


# 8: lone surrogates, numbers of any length, header breaks.
@pytest.mark.parametrize(("method", "path", "body"), [
    ("PUT", "/api/kv/k", '{"value": "\\ud800x"}'), ("POST", "/api/messages", '{"body": "\\ud800x"}'),
    ("POST", "/api/messages", '[{"body": {"\\udfff": 1}}]'), ("POST", "/api/tokens", '{"name": "\\ud800"}'),
    ("POST", "/api/jobs/fib", '{"n": 1e400}'), ("POST", "/api/messages", '{"body": 1e400}'),
    ("PUT", "/api/kv/k", '{"value": "v", "ttl": 1' + "0" * 5000 + "}")])
def test_json_fila_cannot_keep_is_a_400(client, rdb, method, path, body):
    reply = client.open(path, method=method, data=body, content_type="application/json")
    assert reply.status_code == 400 and reply.get_json()["error"] in {"bad_json", "bad_ttl"}
    assert rdb.dbsize() == 0 or all(key.startswith(keys.LIMITS_PREFIX) for key in rdb.scan_iter())


@pytest.mark.parametrize("path", ["/api/kv/k?ttl=", "/api/history?minutes=", "/api/dead?limit=", "/fib/", "/fib-cache/",
                                  "/fib-job/", "/api/fib/"])
def test_numbers_of_any_length_are_a_400(client, path):
    for digits in (10, 4301, 100_000):
        number = "9" * digits
        method = "PUT" if path.startswith("/api/kv") else "GET"
        reply = client.open(path + number, method=method, data=b"v", content_type="text/plain", headers=JSON)
        assert reply.status_code == 400, (path, digits, reply.status_code)
        assert len(reply.get_data()) < 2000


def test_a_login_with_a_header_break_in_next_stays_on_this_site(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD).test_client()
    # The query's /%0D%0A reaches the form's hidden field decoded: a CR LF in the redirect's target.
    assert client.get("/login?next=/%0D%0AX:%201").status_code == 200
    for target in ("/\r\nX: 1", "/\x00", "/\\evil.example", "//evil.example", "https://evil.example/"):
        reply = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                            "csrf_token": csrf_token(client), "next": target})
        assert reply.status_code == 302 and reply.headers["Location"] == "/painel", target
        assert "X" not in reply.headers


def test_values_that_are_not_utf8_read_back_instead_of_failing(client, rdb):
    rdb.set("binario", b"\xff\xfeok")
    rdb.rpush("lista", b"\xc3")
    assert client.get("/get/binario").get_data(as_text=True) == "Valor recuperado: \ufffd\ufffdok"
    assert client.get("/listar/lista", headers=JSON).get_json()["values"] == ["\ufffd"]
    assert client.put("/api/kv/k", data=b"\xff", content_type="text/plain").status_code == 400


# 9: CPU-bound routes are limited, and the health checks do not starve.
def test_health_checks_answer_while_forty_clients_ask_for_fib_32(settings, rdb, served):
    port, _ = served
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    answers: list[int] = []

    def flood() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                answers.append(session.get(f"{base}/fib/32", timeout=30).status_code)
            except requests.RequestException:
                answers.append(0)

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(40)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(answers) >= 40, timeout=60, message="the flood is on")
        slowest = 0.0
        for _ in range(10):
            started = time.monotonic()
            assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
            assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    print(f"\n/healthz + /readyz under 40 concurrent /fib/32: slowest pair {slowest * 1000:.0f} ms; "
          f"/fib/32 answers {sorted(set(answers))}")
    assert slowest < 3.0  # compose's health check gives up at 3 s
    assert set(answers) <= {200, 429, 503} and 0 not in answers
    assert answers.count(429) > 0  # one client: its CPU budget (RATE_LIMIT_CPU) ran out


def test_a_cpu_route_that_is_busy_answers_503_with_retry_after(client, rdb):
    from web import handout

    assert handout._computing.acquire(blocking=False)
    try:
        reply = client.get("/fib/20")
        assert reply.status_code == 503 and reply.headers["Retry-After"] == "1"
        assert reply.get_data(as_text=True).startswith("Erro: outro Fibonacci")
    finally:
        handout._computing.release()
    assert client.get("/fib/20").status_code == 200


# 10: page loads are not login attempts; one write budget per client.
def test_only_login_attempts_count_and_writes_share_one_budget(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD, rate_limit_login="3/minute").test_client()
    for _ in range(10):
        assert client.get("/login").status_code == 200
    token = csrf_token(client)
    attempts = [client.post("/login", data={"username": "admin", "password": "x", "csrf_token": token}).status_code
                for _ in range(4)]
    assert attempts == [401, 401, 401, 429]
    writes = app_with(settings, rate_limit_writes="3/minute").test_client()
    answers = [writes.get("/set/a/1").status_code, writes.get("/push/minhaLista/v").status_code,
               writes.put("/api/kv/b", data=b"2", content_type="text/plain").status_code,
               writes.get("/set/c/3").status_code, writes.delete("/api/kv/b").status_code]
    assert answers == [200, 200, 201, 429, 429]


# 11: security headers, set once for everything.
def test_every_answer_carries_the_security_headers(app, client, rdb):
    paths = {"/", "/painel", "/login", "/api/docs", "/api/queues", "/openapi.json", "/metrics", "/static/fila.css",
             "/no-such-route", "/api/painel"}
    for path in paths:
        reply = client.get(path, headers={"Accept": "text/html"})
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.headers["Referrer-Policy"] == "same-origin", path
        if reply.mimetype == "text/html":
            assert "default-src 'self'" in reply.headers["Content-Security-Policy"], path
        if not path.startswith("/static/"):
            assert reply.headers["Cache-Control"] == "no-store", path
    for page in ("/painel", "/login", "/api/docs"):
        assert client.get(page).mimetype == "text/html"


# 12: the auth scheme is case-insensitive (RFC 9110, 11.1).
def test_bearer_in_any_case(settings, rdb):
    client = app_with(settings, admin_password=PASSWORD).test_client()
    secret, _ = tokens.create(rdb, "ci", 60)
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        assert client.get("/api/dead", headers={"Authorization": f"{scheme} {secret}"}).status_code == 200, scheme
    assert client.get("/api/dead", headers={"Authorization": f"Basic {secret}"}).status_code == 401
