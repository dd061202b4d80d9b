"""The docs stay true: a short README that leads to docs/, every route, setting, variable and command documented there,
and every link between them pointing at something that exists."""

from __future__ import annotations

import re

from shared.core.settings import Settings
from tests.support.processes import ROOT
from web import create_app

README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    return (DOCS / name).read_text()


def test_the_readme_is_short_and_leads_to_every_page_of_docs():
    assert len(README.splitlines()) <= 160
    for section in ("## Two commands", "## A first message", "## Where to go next", "make run", "make test"):
        assert section in README, section
    pages = sorted(path.name for path in DOCS.glob("*.md"))
    assert [page for page in pages if f"docs/{page}" not in README] == []


def test_every_route_is_in_the_endpoints_reference():
    app = create_app({"SETTINGS": Settings(log_level="WARNING")})
    endpoints = doc("endpoints.md")
    missing = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"
               and re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) not in endpoints]
    assert missing == []


def test_every_setting_and_compose_variable_is_in_the_configuration_reference():
    configuration = doc("configuration.md")
    assert [name for name, _, _ in Settings.variables() if f"`{name}`" not in configuration] == []
    text = (ROOT / "compose.yaml").read_text() + (ROOT / "deploy" / "ha" / "compose.ha.yaml").read_text()
    names = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert sorted(n for n in names if f"`{n}`" not in configuration) == []


def test_the_deploy_guide_takes_fila_past_one_machine():
    deploy = doc("deploy.md")
    for heading in ("## Swarm", "## Redis with Sentinel", "## Kubernetes"):
        assert heading in deploy, heading
    for command in ("docker stack deploy", "deploy/ha/compose.ha.yaml", "REDIS_WAIT_REPLICAS", "kubectl apply -k",
                    "KEDA", "No cluster runs here"):
        assert command in deploy, command


def test_every_fila_command_is_in_the_cli_reference():
    from cli import COMMANDS

    assert [name for name in COMMANDS if f"fila {name}" not in doc("cli.md")] == []


def test_the_lab_walkthrough_covers_the_handout():
    lab = doc("laboratorio.md")
    for step in ("/set/curso/Redis", "/get/curso", "/usuario/Jose", "/push/minhaLista/valor1", "/fib-cache/30",
                 "KEYS *", "LRANGE minhaLista 0 -1", "INFO", "scripts/carga.sh", "--scale worker=4"):
        assert step in lab, step


def test_every_link_between_the_docs_points_at_something_that_exists():
    broken = []
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_docs_speak_to_the_reader():
    # Written for the reader: no first person, no diary.
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        if page.name == "laboratorio.md":
            continue  # the lab speaks to the student in Portuguese
        text = page.read_text()
        assert not re.search(r"\b(I|I'm|I've|my|we|our)\b", text), page.name


def test_the_license_is_the_one_pyproject_declares():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    for dockerfile in ("Dockerfile.web", "Dockerfile.worker"):
        assert "LICENSE" in (ROOT / dockerfile).read_text()  # shipped in the images too


def test_the_readme_links_the_api_reference():
    assert "/api/docs" in README and "docs/endpoints.md" in README
