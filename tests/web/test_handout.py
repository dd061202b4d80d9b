"""Every route of the handout, with its own example values, against a real redis-server."""

from __future__ import annotations

import re

import pytest

from tests.support.polling import user_keys

JSON = {"Accept": "application/json"}


def test_root_counts_hits_in_redis(client, rdb):
    first = client.get("/")
    second = client.get("/")
    assert first.status_code == 200
    assert re.fullmatch(r"Hello World! I have been seen 1 times\.\nTempo de resposta: \d+\.\d{6} segundos",
                        first.get_data(as_text=True))
    assert "seen 2 times" in second.get_data(as_text=True)
    assert rdb.get("hits") == "2"
    assert client.get("/", headers=JSON).get_json()["hits"] == 3


def test_sem_redis_does_not_touch_redis(client, rdb):
    body = client.get("/sem-redis").get_data(as_text=True)
    assert body.startswith("Hello World! I have been seen times.\nTempo de resposta: ")
    assert rdb.get("hits") is None


@pytest.mark.parametrize(("path", "text"), [
    ("/inicio", "Página Inicial"), ("/sobre", "Sobre o aplicativo..."), ("/contato", "Página de contato.")])
def test_static_routes(client, path, text):
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == text


@pytest.mark.parametrize("name", ["Jose", "Maria"])
def test_usuario_greets(client, name):
    assert client.get(f"/usuario/{name}").get_data(as_text=True) == f"Olá, {name}!"


def test_usuario_escapes_html(client):
    response = client.get("/usuario/<img src=x onerror=alert(1)>")
    body = response.get_data(as_text=True)
    assert "<img" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert response.mimetype == "text/html"


def test_set_then_get_handout_values(client, rdb):
    assert client.get("/set/nome/Klayton").get_data(as_text=True) == "Valor Klayton foi armazenado com a chave nome"
    assert client.get("/set/curso/Redis").status_code == 200
    assert client.get("/get/curso").get_data(as_text=True) == "Valor recuperado: Redis"
    assert client.get("/get/nome").get_data(as_text=True) == "Valor recuperado: Klayton"
    # The student reads the same names in redis-cli: GET nome.
    assert rdb.get("nome") == "Klayton"
    assert client.get("/set/minhaChave/meuValor").status_code == 200
    assert rdb.get("minhaChave") == "meuValor"


def test_get_missing_is_404(client):
    response = client.get("/get/naoexiste")
    assert response.status_code == 404
    assert response.get_data(as_text=True) == "Chave não encontrada"
    missing = client.get("/get/naoexiste", headers=JSON).get_json()
    assert missing["error"] == "key_not_found" and "/set/naoexiste/" in missing["message"]


def test_push_pop_listar(client, rdb):
    pushed = client.get("/push/minhaLista/valor1").get_data(as_text=True)
    assert pushed == "Valor valor1 adicionado à lista minhaLista"
    client.get("/push/minhaLista/valor2")
    assert rdb.lrange("minhaLista", 0, -1) == ["valor2", "valor1"]
    listed = client.get("/listar/minhaLista").get_data(as_text=True)
    assert listed == "Valores na lista minhaLista: ['valor2', 'valor1']"
    assert client.get("/listar/minhaLista", headers=JSON).get_json() == {
        "list": "minhaLista", "values": ["valor2", "valor1"], "total": 2}
    assert client.get("/pop/minhaLista").get_data(as_text=True) == "Valor retirado da lista minhaLista: valor2"
    client.get("/pop/minhaLista")
    empty = client.get("/pop/minhaLista")
    assert empty.status_code == 404
    assert empty.get_data(as_text=True) == "Lista minhaLista está vazia ou não existe"


def test_listar_caps_long_lists(app, client, rdb):
    rdb.lpush("grande", *range(1500))
    body = client.get("/listar/grande").get_data(as_text=True)
    assert body.endswith("(mostrando 1000 de 1500)")


def test_json_on_request(client):
    response = client.get("/set/curso/Redis", headers=JSON)
    assert response.is_json
    assert response.get_json() == {"key": "curso", "value": "Redis"}


@pytest.mark.parametrize("path", [
    "/set/hits/1", "/set/fila:workers/x", "/set/rq:queue:fib/x", "/set/fib:30/1", "/set/fila/x",
    "/push/hits/1", "/push/rq:queues/x", "/push/fib:5/x", "/push/fila:dead:fila/x", "/pop/rq:queue:fib",
    "/pop/fila:processing:w1",
])
def test_reserved_names_refused_and_unchanged(client, rdb, path):
    rdb.set("hits", "7")
    before = {key: rdb.type(key) for key in user_keys(rdb)}
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("Erro: ")
    assert {key: rdb.type(key) for key in user_keys(rdb)} == before
    assert rdb.get("hits") == "7"


def test_popping_an_api_message_by_hand_forgets_it(client, rdb):
    (message_id,) = client.post("/api/messages", json={"body": "x"}).get_json()["ids"]
    assert client.get(f"/api/messages/{message_id}").get_json()["status"] == "queued"
    assert client.get("/pop/fila").status_code == 200
    assert client.get(f"/api/messages/{message_id}").status_code == 404
    assert rdb.hlen("fila:pending:fila") == 0


def test_queue_list_is_the_exception(client, rdb):
    assert client.get("/push/fila/hello").status_code == 200
    assert client.get("/listar/fila").get_data(as_text=True) == "Valores na lista fila: ['hello']"
    assert client.get("/pop/fila").get_data(as_text=True) == "Valor retirado da lista fila: hello"


@pytest.mark.parametrize("path", ["/set/bad key/x", "/set/" + "k" * 201 + "/x", "/set/ok/" + "v" * 5000,
                                  "/set/ok/a%01b", "/push/a%20b/x", "/get/a$b"])
def test_invalid_input_is_400_and_changes_nothing(client, rdb, path):
    response = client.get(path, headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"]
    assert len(user_keys(rdb)) == 0


def test_wrong_type_is_409(client, rdb):
    rdb.lpush("umalista", "x")
    response = client.get("/get/umalista")
    assert response.status_code == 409
    assert "WRONGTYPE" in response.get_data(as_text=True)


def test_fib_naive_handout_value(client):
    body = client.get("/fib/30").get_data(as_text=True)
    assert re.fullmatch(r"\[SEM CACHE\] Fibonacci\(30\) = 832040 \(tempo: \d+\.\d{4} segundos\)", body)


@pytest.mark.parametrize("raw", ["40", "-1", "abc", "1e3", "99999999999"])
def test_fib_bounded(client, raw):
    response = client.get(f"/fib/{raw}")
    assert response.status_code == 400
    assert "Erro:" in response.get_data(as_text=True)


def test_fib_cache_computes_then_hits(client, rdb):
    first = client.get("/fib-cache/30").get_data(as_text=True)
    assert "[COM CACHE] Fibonacci(30) = 832040 (calculado e salvo no Redis)" in first
    assert rdb.get("fib:30") == "832040"
    assert 0 < rdb.ttl("fib:30") <= 60
    second = client.get("/fib-cache/30").get_data(as_text=True)
    assert "[COM CACHE] Fibonacci(30) = 832040 (Redis (cache))" in second


def test_fib_cache_large_n_needs_a_job(client, rdb):
    response = client.get("/fib-cache/100")
    assert response.status_code == 400
    assert "/fib-job/100" in response.get_data(as_text=True)
    rdb.set("fib:100", "354224848179261915075")
    assert "354224848179261915075 (Redis (cache))" in client.get("/fib-cache/100").get_data(as_text=True)


def test_text_responses_are_not_sniffed(client):
    response = client.get("/set/x/<script>")
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["status"] == "ready"
