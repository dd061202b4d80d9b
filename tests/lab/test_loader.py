"""The student's lab/app.py inside fila: served as pasted, and no mistake in it stops the rest (web/lab.py)."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import pytest

from web import create_app
from web.access import Access, Limit, Policy, policy_table
from web.lab import LOAD_SECONDS, Reloading
from web.openapi import build

HEADER = "from lab import app, db\n\n"


def lab_app(settings, tmp_path: Path, code: str, *, dev: bool = False):
    """Build fila with a lab folder whose app.py is `code`."""
    folder = tmp_path / "lab"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(HEADER + code)
    return create_app({"SETTINGS": dataclasses.replace(settings, lab_dir=str(folder), dev=dev), "TESTING": True})


def test_a_pasted_route_is_served_open_counted_as_a_write_and_documented(settings, tmp_path, rdb):
    app = lab_app(settings, tmp_path, "@app.route('/meu-nome')\ndef meu_nome():\n    return 'Ana'\n\n"
                                      "@app.route('/conta')\ndef conta():\n    return db.incr('conta')\n")
    client = app.test_client()
    assert client.get("/meu-nome").get_data(as_text=True) == "Ana"
    assert client.get("/conta").get_data(as_text=True) == "1"  # a number answers as text, not Flask's TypeError
    assert rdb.get("conta") == "1"  # `db` is fila's Redis
    assert policy_table(app)["lab.meu_nome"] == Policy(Access.OPEN, Limit.WRITES)
    operation = build(app)["paths"]["/meu-nome"]["get"]
    assert operation["tags"] == ["lab"] and "429" in operation["responses"]


def test_a_route_of_fila_s_address_is_replaced_and_the_log_says_so(settings, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="web.lab"):
        app = lab_app(settings, tmp_path, "@app.route('/sobre')\ndef sobre():\n    return 'a minha'\n")
    assert app.test_client().get("/sobre").get_data(as_text=True) == "a minha"
    assert any("/sobre" in record.getMessage() and "handout.about" in record.getMessage() for record in caplog.records)
    assert build(app)["paths"]["/sobre"]["get"]["tags"] == ["lab"]  # the document shows the route served


@pytest.mark.parametrize("dev", [True, False])
def test_a_syntax_error_leaves_fila_serving_and_says_where_in_development(settings, tmp_path, dev, caplog):
    with caplog.at_level(logging.ERROR, logger="web.lab"):
        app = lab_app(settings, tmp_path, "@app.route('/x')\ndef x()\n    return 'x'\n", dev=dev)
    client = app.test_client()
    assert client.get("/sobre").get_data(as_text=True) == "Sobre o aplicativo..."
    assert client.get("/readyz").status_code == 200
    missing = client.get("/x")
    assert missing.status_code == 404
    assert ("app.py, linha 4: SyntaxError: expected ':'" in missing.get_data(as_text=True)) is dev
    assert any("linha 4: SyntaxError" in record.getMessage() for record in caplog.records)  # the log, always
    page = client.get("/painel").get_data(as_text=True)
    assert ('id="lab-problem"' in page) is dev


def test_the_routes_above_an_error_stay_served(settings, tmp_path):
    app = lab_app(settings, tmp_path, "@app.route('/antes')\ndef antes():\n    return 'ok'\n\nx = y\n\n"
                                      "@app.route('/depois')\ndef depois():\n    return 'nunca'\n", dev=True)
    client = app.test_client()
    assert client.get("/antes").get_data(as_text=True) == "ok"
    assert "NameError: name 'y' is not defined" in client.get("/depois").get_data(as_text=True)


def test_a_file_that_never_finishes_loading_is_left_behind(settings, tmp_path):
    started = time.monotonic()
    app = lab_app(settings, tmp_path, "import time\ntime.sleep(3600)\n", dev=True)
    assert time.monotonic() - started < LOAD_SECONDS + 3
    client = app.test_client()
    assert client.get("/contato").status_code == 200
    assert "TimeoutError" in client.get("/qualquer").get_data(as_text=True)


@pytest.mark.parametrize("dev", [True, False])
def test_a_route_that_raises_answers_500_naming_the_line_only_in_development(settings, tmp_path, dev):
    app = lab_app(settings, tmp_path, "@app.route('/ola/<pessoa>')\ndef ola(pessoa):\n    return f'Olá, {nome}!'\n",
                  dev=dev)
    answer = app.test_client().get("/ola/Ana")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 500 and "Traceback" not in text
    assert ("app.py, linha 5: NameError: name 'nome' is not defined" in text) is dev
    assert ("veja o log do fila" in text) is not dev
    assert app.test_client().get("/ola/Ana", headers={"Accept": "application/json"}).get_json()["error"] == "lab_error"


def test_a_view_returning_none_answers_404_saying_so(settings, tmp_path):
    app = lab_app(settings, tmp_path, "@app.route('/ler/<chave>')\ndef ler(chave):\n    return db.get(chave)\n")
    answer = app.test_client().get("/ler/naoexiste")
    assert answer.status_code == 404 and "ler() devolveu None" in answer.get_data(as_text=True)


def test_the_handout_s_whole_app_py_pasted_is_served(settings, tmp_path, rdb):
    """The handout's section 5 file as written: its own Flask app, its routes, its unguarded imports."""
    code = ("from flask import Flask, request\nimport redis\n\napp = Flask(__name__)\n\n"
            "@app.route('/push2/<lista>/<valor>')\ndef push_lista(lista, valor):\n    db.lpush(lista, valor)\n"
            "    return f'Valor {valor} adicionado à lista {lista}'\n\n"
            "if __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True)\n")
    app = lab_app(settings, tmp_path, code)
    assert app.test_client().get("/push2/l/v").get_data(as_text=True) == "Valor v adicionado à lista l"
    assert rdb.lrange("l", 0, -1) == ["v"]


def test_two_views_of_one_name_are_the_lab_s_mistake_not_fila_s(settings, tmp_path):
    app = lab_app(settings, tmp_path, "@app.route('/a')\ndef f():\n    return 'a'\n\n"
                                      "@app.route('/b')\ndef f():\n    return 'b'\n", dev=True)
    client = app.test_client()
    assert client.get("/sobre").status_code == 200
    assert "View function mapping is overwriting" in client.get("/a").get_data(as_text=True)


def test_make_dev_s_app_loads_a_saved_file_at_the_next_request(settings, tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "app.py").write_text(HEADER + "@app.route('/v')\ndef v():\n    return 'um'\n")
    reloading = Reloading(lambda: create_app({"SETTINGS": dataclasses.replace(settings, lab_dir=str(folder))}),
                          folder)
    first = reloading.current()
    assert first.test_client().get("/v").get_data(as_text=True) == "um"
    assert reloading.current() is first  # nothing changed: the same app
    (folder / "app.py").write_text(HEADER + "@app.route('/v')\ndef v():\n    return 'dois, já'\n")
    assert reloading.current().test_client().get("/v").get_data(as_text=True) == "dois, já"


def test_metrics_say_how_many_lab_routes_are_served_and_whether_the_file_loaded(settings, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    def gauges(app) -> dict[str, float]:
        text = app.test_client().get("/metrics").get_data(as_text=True)
        return {sample.name: sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples if sample.name.startswith("fila_lab_")}

    whole = lab_app(settings, tmp_path, "@app.route('/a')\ndef a():\n    return 'a'\n")
    assert gauges(whole) == {"fila_lab_routes": 1.0, "fila_lab_loaded": 1.0}
    broken = lab_app(settings, tmp_path, "@app.route('/a')\ndef a():\n    return 'a'\n\nx = y\n")
    assert gauges(broken) == {"fila_lab_routes": 1.0, "fila_lab_loaded": 0.0}
