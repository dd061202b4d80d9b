"""The rules for names and values (hypothesis), and WRONGTYPE on every route that reads or writes a key."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared import keys
from tests.support.polling import user_keys

JSON = {"Accept": "application/json"}
RULE = re.compile(r"[\w.:\-]{1,200}")
RESERVED = ("hits", "fila", "fila:workers", "rq:queue:fib", "fib:30")
NAMES = (st.from_regex(r"[\w.:\-]{1,12}", fullmatch=True)
         | st.text(min_size=0, max_size=12)
         | st.sampled_from(RESERVED)
         | st.tuples(st.sampled_from((keys.PREFIX, keys.RQ_PREFIX, keys.FIB_PREFIX)),
                     st.from_regex(r"[\w.:\-]{0,8}", fullmatch=True)).map("".join)
         | st.integers(190, 210).map(lambda n: "k" * n))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def snapshot(rdb) -> dict[str, bytes | None]:
    return {key: rdb.dump(key) for key in user_keys(rdb)}


def writable(name: str) -> bool:
    return bool(RULE.fullmatch(name)) and keys.reserved_owner(name, "fila") is None


@FAST
@given(name=NAMES)
@example(name="fila").via("the queue list is not a key to SET")
@example(name="ação_ñ").via("unicode letters are letters")
def test_set_accepts_exactly_the_names_the_rules_allow(client, rdb, name):
    rdb.flushall()
    response = client.get(f"/set/{quote(name, safe='')}/valor", headers=JSON)
    if writable(name):
        assert response.status_code == 200, (name, response.get_json())
        assert rdb.get(name) == "valor"
    else:
        assert response.status_code in (400, 404), (name, response.status_code)
        assert len(user_keys(rdb)) == 0  # nothing written
        if response.status_code == 400:
            body = response.get_json()
            assert body["error"] in {"bad_name", "reserved_name"} and body["message"]


@FAST
@given(name=NAMES)
def test_text_routes_refuse_in_portuguese(client, rdb, name):
    rdb.flushall()
    response = client.get(f"/push/{quote(name, safe='')}/x")
    if response.status_code == 400:
        text = response.get_data(as_text=True)
        assert text.startswith("Erro: ") and any(word in text for word in ("nome", "reservado", "fila"))
        assert len(user_keys(rdb)) == 0


@FAST
@given(value=st.text(min_size=0, max_size=20) | st.integers(4090, 4100).map(lambda n: "v" * n))
def test_values_are_checked_the_same_on_set_and_put(client, rdb, value):
    rdb.flushall()
    good = value != "" and len(value) <= 4096 and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", value)
    put = client.put("/api/kv/chave", json={"value": value})
    assert put.status_code == (201 if good else 400), (value, put.get_json())
    assert (rdb.get("chave") == value) if good else len(user_keys(rdb)) == 0
    rdb.flushall()
    if "/" not in value and value not in {".", ".."}:
        via_url = client.get(f"/set/chave/{quote(value, safe='')}", headers=JSON)
        assert via_url.status_code in ((200,) if good else (400, 404)), (value, via_url.status_code)
        assert len(user_keys(rdb)) == (1 if good else 0)


#: Every route that reads or writes a user's key: (method, path, what it expects the key to hold).
ROUTES = [("GET", "/set/{k}/x", "string"), ("GET", "/get/{k}", "string"), ("GET", "/push/{k}/x", "list"),
          ("GET", "/pop/{k}", "list"), ("GET", "/listar/{k}", "list"), ("GET", "/api/kv/{k}", "string"),
          ("HEAD", "/api/kv/{k}", "string"), ("PUT", "/api/kv/{k}", "string"), ("DELETE", "/api/kv/{k}", "string")]
MAKERS = {"string": lambda r, k: r.set(k, "texto"), "list": lambda r, k: r.rpush(k, "a", "b"),
          "hash": lambda r, k: r.hset(k, "campo", "1"), "set": lambda r, k: r.sadd(k, "a"),
          "zset": lambda r, k: r.zadd(k, {"a": 1.0})}


CASES = [(method, path, held) for method, path, wanted in ROUTES for held in sorted(MAKERS) if held != wanted]


@pytest.mark.parametrize(("method", "path", "held"), CASES, ids=[f"{m} {p} on a {h}" for m, p, h in CASES])
def test_wrong_type_is_409_naming_the_type_and_changes_nothing(client, rdb, method, path, held):
    MAKERS[held](rdb, "minhachave")
    before = snapshot(rdb)
    url = path.format(k="minhachave")
    kwargs = {"json": {"value": "novo"}} if method == "PUT" else {}
    response = client.open(url, method=method, headers=JSON, **kwargs)
    assert response.status_code == 409, (url, held, response.status_code)
    assert snapshot(rdb) == before
    if method != "HEAD":
        body = response.get_json()
        assert body["error"] == "wrong_type" and body["type"] == held and f"holds a {held}" in body["message"]
    if path.startswith(("/set", "/get", "/push", "/pop", "/listar")):
        text = client.open(url, method=method).get_data(as_text=True)
        assert text.startswith("Erro: a chave 'minhachave' guarda") and "WRONGTYPE" in text


def test_reading_fila_s_own_hashes_through_kv_is_409_not_500(client, rdb):
    client.post("/api/messages", json={"body": 1})
    response = client.get(f"/api/kv/{keys.stats('fila')}")
    assert response.status_code == 409 and response.get_json()["type"] == "hash"
    listed = client.get("/listar/curso-string", headers=JSON)
    assert listed.status_code == 200  # missing: an empty list
    rdb.set("curso", "Redis")
    assert client.get("/listar/curso").status_code == 409
