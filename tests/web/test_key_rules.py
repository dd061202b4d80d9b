"""The rules for names and values (hypothesis), and WRONGTYPE on every route that reads or writes a key."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.core import keys
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
@example(name="").via("an empty name")
@example(name="má chave").via("a space")
@example(name="rq:x").via("RQ's keys")
def test_text_routes_refuse_in_portuguese(client, rdb, name):
    rdb.flushall()
    response = client.get(f"/push/{quote(name, safe='')}/x")
    if RULE.fullmatch(name) and keys.reserved_owner(name, "fila", allow_queue=True) is None:
        assert response.status_code == 200, (name, response.status_code)
        return
    assert response.status_code in (400, 404), (name, response.status_code)  # an empty segment is no route
    text = response.get_data(as_text=True)
    assert text.startswith("Erro: "), text
    if response.status_code == 400:
        assert any(word in text for word in ("nome", "reservado", "reservados")), text
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


#: What a key named by each URL parameter is meant to hold (a view's `user_key(..., kind=...)`).
PARAMETER_KINDS = {"chave": "string", "key": "string", "lista": "list"}
MAKERS = {"string": lambda r, k: r.set(k, "texto"), "list": lambda r, k: r.rpush(k, "a", "b"),
          "hash": lambda r, k: r.hset(k, "campo", "1"), "set": lambda r, k: r.sadd(k, "a"),
          "zset": lambda r, k: r.zadd(k, {"a": 1.0})}


def key_routes() -> list[tuple[str, str, str]]:
    """Every route that reads or writes a user's key, from the URL map and the OpenAPI document.

    (method, path with {k}, what the key should hold): the routes whose URL names a key, and the
    routes whose body is a CSV of keys (documented as text/csv), each with every method it takes.
    """
    from shared.core.settings import Settings
    from web import create_app

    app = create_app({"SETTINGS": Settings(log_level="WARNING")})
    routes = []
    for rule in app.url_map.iter_rules():
        named = [argument for argument in rule.arguments if argument in PARAMETER_KINDS]
        if not named:
            continue
        (parameter,) = named
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, p=parameter: "{k}" if m[1] == p else "x", rule.rule)
        routes += [(method, path, PARAMETER_KINDS[parameter]) for method in sorted(rule.methods - {"OPTIONS"})]
    spec = app.test_client().get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if "text/csv" in operation.get("requestBody", {}).get("content", {}):
                routes.append((method.upper(), path, "string"))  # a CSV's keys hold strings
    return routes


ROUTES = key_routes()
CASES = [(method, path, held) for method, path, wanted in ROUTES for held in sorted(MAKERS) if held != wanted]


def test_the_key_routes_are_all_there():
    # A sanity floor: the handout's five key routes, the REST store's four methods, the CSV loader.
    assert len({path for _, path, _ in ROUTES}) >= 7 and ("POST", "/api/bulk", "string") in ROUTES


@pytest.mark.parametrize(("method", "path", "held"), CASES, ids=[f"{m} {p} on a {h}" for m, p, h in CASES])
def test_wrong_type_is_409_naming_the_type_and_changes_nothing(client, rdb, method, path, held):
    MAKERS[held](rdb, "minhachave")
    before = snapshot(rdb)
    if path == "/api/bulk":
        url, kwargs = path, {"data": b"outra,1\nminhachave,texto\n", "content_type": "text/csv"}
    else:
        url = path.format(k="minhachave")
        kwargs = {"json": {"value": "novo"}} if method == "PUT" else {}
    response = client.open(url, method=method, headers=JSON, **kwargs)
    assert response.status_code == 409, (url, held, response.status_code)
    assert snapshot(rdb) == before
    if method != "HEAD":
        body = response.get_json()
        assert body["error"] == "wrong_type" and body["type"] == held and f"holds a {held}" in body["message"]
    if method != "HEAD" and path.startswith(("/set", "/get", "/push", "/pop", "/listar")):
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
