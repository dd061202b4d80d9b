"""The README stays true: every route and every setting is documented."""

from __future__ import annotations

import re

from shared.core.settings import Settings
from tests.support.processes import ROOT
from web import create_app

README = (ROOT / "README.md").read_text()


def test_every_route_is_in_the_readme():
    app = create_app({"SETTINGS": Settings(log_level="WARNING")})
    missing = []
    aliases = {"message_id": "id", "job_id": "id"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        documented = re.sub(r"<(?:int:)?(\w+)>", lambda m: f"<{aliases.get(m.group(1), m.group(1))}>", rule.rule)
        if documented not in README:
            missing.append(documented)
    assert missing == []


def test_every_setting_is_in_the_readme():
    missing = [name for name, _, _ in Settings.variables() if f"`{name}`" not in README]
    assert missing == []


def test_every_compose_variable_is_in_the_readme():
    text = (ROOT / "compose.yaml").read_text() + (ROOT / "deploy" / "ha" / "compose.ha.yaml").read_text()
    names = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert sorted(n for n in names if f"`{n}`" not in README) == []


def test_the_readme_takes_fila_past_one_machine():
    section = README.split("## Outgrowing one machine")[1].split("\n## ")[0]
    for heading in ("### Swarm", "### Redis with Sentinel", "### Kubernetes"):
        assert heading in section, heading
    for command in ("docker stack deploy", "deploy/ha/compose.ha.yaml", "REDIS_WAIT_REPLICAS", "kubectl apply -k",
                    "KEDA", "No cluster runs here"):
        assert command in section, command


def test_every_fila_command_is_in_the_readme():
    from cli import COMMANDS

    assert [name for name in COMMANDS if f"fila {name}" not in README] == []


def test_the_lab_walkthrough_covers_the_handout():
    lab = (ROOT / "docs/laboratorio.md").read_text()
    for step in ("/set/curso/Redis", "/get/curso", "/usuario/Jose", "/push/minhaLista/valor1", "/fib-cache/30",
                 "KEYS *", "LRANGE minhaLista 0 -1", "INFO", "scripts/carga.sh", "--scale worker=4"):
        assert step in lab, step


def test_the_license_is_the_one_pyproject_declares():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    for dockerfile in ("Dockerfile.web", "Dockerfile.worker"):
        assert "LICENSE" in (ROOT / dockerfile).read_text()  # shipped in the images too


def test_the_readme_links_the_api_reference():
    assert "/api/docs" in README and "/openapi.json" in README
