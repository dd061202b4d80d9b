"""What fila generates from one source is current: `make generated` has been run after every change."""

from __future__ import annotations

import subprocess
import sys

from tests.support.processes import ROOT


def test_every_generated_file_is_current():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"], capture_output=True,
                         text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_compose_reads_only_declared_variables_and_passes_every_setting_on():
    """A variable in compose.yaml or the HA override is a fila setting or a declared compose variable."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import generate

    settings = {name for name, *_ in generate._settings()}
    declared = {variable.name for variable in (*generate.COMPOSE_VARIABLES, *generate.HA_VARIABLES)}
    assert sorted(generate.compose_names() - settings - declared) == []
    x_fila_env = generate.COMPOSE.read_text().split("x-fila-env: &fila-env\n")[1].split("\n\n")[0]
    assert all(f"  {name}:\n" in x_fila_env + "\n" for name in generate.passed_on())
