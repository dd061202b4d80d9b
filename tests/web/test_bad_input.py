"""Every route, hand-made hostile input of every class, over real HTTP (granian as compose runs it, shipped settings).

The routes come from the app's URL map (a new route is covered without editing this file). For
each: path parameters of every hostile shape, query parameters likewise, and for the routes that
take a body, bodies that are deep, hold lone surrogates, numbers of any length, control
characters, bytes that are not UTF-8, a million values, and bodies over the limit sent with a
Content-Length and chunked. No answer may be a 5xx other than a documented 503 (busy), no error
may be over 1 MB, the web's memory stays bounded, nothing a refused request carried is stored,
and afterwards 100 ordinary messages are accepted and done. Generated requests over the same
routes are schemathesis' (tests/web/test_openapi.py).
"""

from __future__ import annotations

import re
import socket
from collections import Counter

import pytest
import requests

from shared.core import keys
from shared.core.settings import Settings
from tests.support.polling import wait_for
from tests.support.processes import start_granian, start_worker
from tests.support.redis_server import free_port
from tests.web.test_hardening import PeakRss
from web import create_app

pytestmark = pytest.mark.slow

#: Path parameter values, as they go on the wire (percent-encoded where they must be).
PATH_VALUES = ["9" * 5000, "%ED%A0%80", "%00", "a" * 10_000, "%0D%0AX:%201", "..%2F..%2Fetc", "%3Cscript%3E",
               "%FF%FE", "-1", "1e400", "%E2%80%AE", "%20"]
#: Query values for every parameter any route reads.
QUERY_VALUES = ["9" * 5000, "-1", "%00", "%ED%A0%80", "1e400", "a" * 5000, "%0D%0A"]
QUERY_NAMES = ["ttl", "minutes", "limit", "after", "algorithm", "next", "n"]
#: Bodies, with the Content-Type they claim.
BODIES = [
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"value": "\\ud800", "body": "\\ud800x", "name": "\\udfff", "n": 1, "ids": ["\\ud800"]}', "application/json"),
    (b'{"value": "v", "ttl": 1e400, "body": 1e400, "n": 1e400, "until": 1e400}', "application/json"),
    (b'{"value": "v", "ttl": ' + b"9" * 5000 + b', "n": ' + b"9" * 5000 + b"}", "application/json"),
    (b'{"value": "v", "ttl": ' + b"9" * 4000 + b', "n": ' + b"9" * 4000 + b', "until": ' + b"9" * 4000 + b"}",
     "application/json"),
    (b"[" + b"[]," * 2_000_000 + b"1]", "application/json"),
    (b'{"value": "\\u0000\\u001b[31m", "body": "\\u0000", "name": "\\r\\nX: 1"}', "application/json"),
    (b"\xff\xfe\x00{}", "application/json"),
    (b"\xff\xfe,\x00\r\n\x1b[31m,x\n", "text/plain"),
    (b"\n" * 5_000_000, "text/plain"),
    (b"chave,\x00\nvalor\x1b,x\r\n" * 1000, "text/csv"),
    (b"x", "application/xml"),
]
ERROR_MAX_BYTES = 1 << 20


def expand(rule: str, value: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", value, rule)


def routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every route (HEAD and OPTIONS come free with each)."""
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def chunked(port: int, method: str, path: str, body: bytes, content_type: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: fila\r\nContent-Type: {content_type}\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
        try:
            for start in range(0, len(body), 1 << 16):
                piece = body[start:start + (1 << 16)]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while chunk := sock.recv(1 << 16):
            answer += chunk
    return int(answer.split(b" ")[1])


def test_hostile_input_on_every_route(redis_server, rdb):
    settings = Settings(redis_url=redis_server.url, log_level="WARNING")
    app = create_app({"SETTINGS": settings})
    port = free_port()
    web = start_granian(settings, port, workers=2, threads=2)
    base = f"http://127.0.0.1:{port}"
    seen: Counter[int] = Counter()
    problems: list[str] = []
    session = requests.Session()

    def snapshot() -> dict[str, bytes | None]:
        """Every key a request could have written for a user (fila's own bookkeeping left out), with its value."""
        names = [key for key in rdb.scan_iter(count=1000)
                 if not key.startswith((keys.PREFIX, keys.RQ_PREFIX, keys.LIMIT_DEMO_PREFIX)) and key != keys.HITS]
        return {key: rdb.dump(key) for key in names}

    state = [snapshot()]

    def check(method: str, path: str, reply: requests.Response) -> None:
        seen[reply.status_code] += 1
        now = snapshot()
        if reply.status_code >= 400 and now != state[0]:
            problems.append(f"{method} {path[:80]} -> {reply.status_code}, and it changed {set(now) ^ set(state[0])}")
        state[0] = now
        busy = reply.status_code == 503 and reply.headers.get("Content-Type", "").startswith(("application/json",
                                                                                                  "text/plain"))
        if reply.status_code >= 500 and not busy:
            problems.append(f"{method} {path[:80]} -> {reply.status_code} {reply.content[:200]!r}")
        if reply.status_code >= 400 and len(reply.content) > ERROR_MAX_BYTES:
            problems.append(f"{method} {path[:80]} -> an error of {len(reply.content)} bytes")
        if b"Traceback" in reply.content:
            problems.append(f"{method} {path[:80]} -> a traceback")

    try:
        with PeakRss(web.pid) as memory:
            for method, rule in routes(app):
                targets = [expand(rule, value) for value in PATH_VALUES] if "<" in rule else [rule]
                targets += [expand(rule, "fila") + "?" + "&".join(f"{name}={value}" for name in QUERY_NAMES)
                            for value in QUERY_VALUES]
                for target in targets:
                    check(method, target, session.request(method, base + target, timeout=60, allow_redirects=False,
                                                          headers={"Accept": "application/json"}))
                if method in {"POST", "PUT", "DELETE"}:
                    path = expand(rule, "k")
                    for body, content_type in BODIES:
                        # The answer to the hostile request is what is checked, never a redirect's target, and
                        # each goes on a connection of its own: a kept-alive connection the server closed after
                        # a body it did not read is a client-side race (RemoteDisconnected), not its answer.
                        check(method, path, session.request(method, base + path, data=body, timeout=120,
                                                            allow_redirects=False,
                                                            headers={"Content-Type": content_type,
                                                                     "Connection": "close"}))
                    oversized = b"x" * (settings.request_max_bytes + 1)
                    reply = session.request(method, base + path, data=oversized, timeout=120, allow_redirects=False,
                                            headers={"Content-Type": "text/plain", "Connection": "close"})
                    check(method, path, reply)
                    assert reply.status_code in {413, 404, 405, 401, 403, 429}, (method, path, reply.status_code)
                    status = chunked(port, method, path, oversized, "text/plain")
                    seen[status] += 1
                    assert snapshot() == state[0], (method, path, "chunked")
                    assert status in {413, 404, 405, 401, 403, 429}, (method, path, "chunked", status)
        print(f"\nstatuses: {dict(sorted(seen.items()))}; web RSS peak +{memory.growth / 1e6:.1f} MB")
        assert problems == []
        assert memory.growth < 200e6  # two processes, each holding a 16 MB body at a time (117 MB measured)
        accepted_by_hostile_routes = rdb.llen("fila")
        # Then ordinary work goes through, end to end.
        worker = start_worker(settings)
        try:
            rdb.delete("fila")
            ids = []
            for i in range(100):
                reply = session.post(f"{base}/api/messages", json={"body": {"text": f"mensagem {i}"}}, timeout=10)
                assert reply.status_code == 202, reply.text
                ids.extend(reply.json()["ids"])

            def done() -> bool:
                return all(session.get(f"{base}/api/messages/{i}", timeout=10).json()["status"] == "done" for i in ids)
            wait_for(done, timeout=60, interval=0.2, message="100 ordinary messages done")
        finally:
            worker.stop()
        print(f"messages the hostile routes accepted (valid bodies, such as control characters): "
              f"{accepted_by_hostile_routes}")
    finally:
        web.stop()
