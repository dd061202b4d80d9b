"""Bulk load: /api/bulk and the handout's curl loop, against real servers."""

from __future__ import annotations

import subprocess

from tests.support.polling import user_keys
from tests.support.processes import ROOT, child_env


def test_bulk_loads_good_rows_and_reports_bad_ones(client, rdb):
    csv = "chave1,valor1\nchave2,valor2\n\nsem-virgula\nhits,9\nchave3,valor 3, com vírgulas\nmá chave,x\nvazio,\n"
    reply = client.post("/api/bulk", data=csv.encode(), content_type="text/csv")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["loaded"] == 3 and body["lines"] == 8
    assert [r["line"] for r in body["rejected"]] == [4, 5, 7, 8]
    assert "no comma" in body["rejected"][0]["error"] and "hit counter" in body["rejected"][1]["error"]
    assert rdb.mget("chave1", "chave2", "chave3") == ["valor1", "valor2", "valor 3, com vírgulas"]
    assert rdb.get("hits") is None and rdb.get("vazio") is None


def test_bulk_refuses_empty_and_all_bad(client, rdb):
    assert client.post("/api/bulk", data=b"", content_type="text/csv").status_code == 400
    all_bad = client.post("/api/bulk", data=b"rq:x,1\nfib:1,2\n", content_type="text/csv")
    assert all_bad.status_code == 400 and len(all_bad.get_json()["rejected"]) == 2
    assert len(user_keys(rdb)) == 0


def test_handout_curl_loop_still_works(web_url, rdb, settings):
    run = subprocess.run(["bash", str(ROOT / "scripts/carga.sh"), str(ROOT / "docs/dados.csv")],
                         capture_output=True, text=True, env=child_env(settings, {"FILA_URL": web_url}), timeout=60)
    assert run.returncode == 0
    assert "Valor valor1 foi armazenado com a chave chave1 Inserido chave1: valor1" in run.stdout
    assert rdb.mget("chave1", "chave2", "chave3") == ["valor1", "valor2", "valor3"]
