"""`fila load`: a CSV through /api/bulk of a real granian, with progress and bad lines by number."""

from __future__ import annotations

import subprocess
import sys

from tests.support.polling import user_keys
from tests.support.processes import child_env


def test_fila_load_command(web_url, rdb, tmp_path, settings):
    rows = [f"chave{i},valor{i}" for i in range(2500)] + ["linha ruim"] + ["rq:proibido,x"]
    path = tmp_path / "dados.csv"
    path.write_text("\n".join(rows) + "\n")
    command = [sys.executable, "-m", "cli", "load", str(path), "--url", web_url, "--chunk", "1000", "--quiet"]
    run = subprocess.run(command, capture_output=True, text=True, env=child_env(settings), timeout=60)
    assert run.returncode == 1
    assert "2500 key(s) loaded from 2502 line(s)" in run.stdout
    assert "line 2501: no comma" in run.stdout and "line 2502: names starting with 'rq:'" in run.stdout
    assert rdb.get("chave2499") == "valor2499" and len(user_keys(rdb)) == 2500
