"""`fila init` (`make env`): write a `.env` for docker compose with every secret made up at random.

    fila init            writes .env (never over an existing one), comments in the lab's language
    fila init --force    replaces it (every password changes: `docker compose down -v` first)
    fila init --print    prints it instead

COMPOSE_VARIABLES below is the one list of what compose reads besides fila's settings
(scripts/generate.py writes .env.example from it too).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path
from typing import NamedTuple

from shared.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


class Variable(NamedTuple):
    """A variable compose (or the Redis container's start script) reads that is not a fila setting."""

    name: str
    default: str
    help: str
    secret: bool = False
    pt: str = ""


#: What compose reads besides fila's settings (each is declared here, once).
COMPOSE_VARIABLES = (
    Variable("REDIS_PASSWORD", "troque-esta-senha-do-redis", "the Redis administrator's password (user `default`: "
             "`docker compose exec redis redis-cli`, the healthcheck)", secret=True,
             pt="a senha do administrador do Redis (usuário `default`: `docker compose exec redis redis-cli`)"),
    Variable("REDIS_WEB_PASSWORD", "troque-esta-senha-da-web", "the web's Redis user (`web`: any key of database 0)",
             secret=True, pt="o usuário do Redis da aplicação web (`web`: qualquer chave do banco 0)"),
    Variable("REDIS_WORKER_PASSWORD", "troque-esta-senha-dos-workers", "the message workers' Redis user (`worker`: "
             "fila's keys and the queue list)", secret=True,
             pt="o usuário do Redis dos workers (`worker`: as chaves do fila e a lista `fila`)"),
    Variable("REDIS_RQ_PASSWORD", "troque-esta-senha-do-rq", "the RQ workers' Redis user (`rq`: RQ's keys and the "
             "Fibonacci cache)", secret=True, pt="o usuário do Redis do RQ (`rq`: as chaves do RQ e o cache `fib:*`)"),
    Variable("REDIS_DASHBOARD_PASSWORD", "troque-esta-senha-do-redis-painel", "rq-dashboard's Redis user "
             "(`dashboard`: RQ's keys)", secret=True, pt="o usuário do Redis do rq-dashboard (as chaves do RQ)"),
    Variable("REDIS_COMMANDER_PASSWORD", "troque-esta-senha-do-redis-commander", "Redis Commander's Redis user "
             "(`commander`: read-only)", secret=True, pt="o usuário do Redis do Redis Commander (só leitura)"),
    Variable("SENTINEL_PASSWORD", "troque-esta-senha-do-sentinel", "the Sentinels' own password (only with "
             "deploy/ha/compose.ha.yaml)", secret=True,
             pt="a senha dos Sentinels (só com deploy/ha/compose.ha.yaml)"),
    Variable("DASHBOARD_USERNAME", "admin", "rq-dashboard's basic auth",
             pt="o login do rq-dashboard (http://localhost:9181)"),
    Variable("DASHBOARD_PASSWORD", "troque-esta-senha-do-painel", "rq-dashboard's basic auth", secret=True,
             pt="a senha do rq-dashboard"),
    Variable("COMMANDER_USERNAME", "admin", "Redis Commander's basic auth",
             pt="o login do Redis Commander (http://localhost:8081)"),
    Variable("COMMANDER_PASSWORD", "troque-esta-senha-do-commander", "Redis Commander's basic auth", secret=True,
             pt="a senha do Redis Commander"),
    Variable("COMMANDER_READ_ONLY", "true", "Redis Commander's UI refuses changes (its Redis user can only read)",
             pt="o Redis Commander não altera nada (o usuário dele no Redis só lê)"),
    Variable("REDIS_HOST_PORT", "6379", "Redis on the host, for redis-cli from outside the containers "
             "(127.0.0.1 only)", pt="a porta do Redis no seu computador, para o redis-cli de fora dos containers "
             "(só em 127.0.0.1)"),
    Variable("REDIS_MAXMEMORY", "800mb", "the memory Redis may use before it refuses writes (507), under its "
             "container's 1 GiB", pt="a memória que o Redis pode usar antes de recusar escritas (507)"),
    Variable("WEB_BIND", "127.0.0.1", "the address the web's ports bind to (`0.0.0.0` exposes them)",
             pt="onde as portas da web escutam (`0.0.0.0` as expõe à rede: só com as senhas trocadas)"),
    Variable("RQ_WORKERS", "1", "RQ workers", pt="quantos workers do RQ"),
    Variable("ALTA_WORKERS", "1", "workers of the priority queue `alta` (the `worker-alta` service)",
             pt="quantos workers da fila prioritária `alta` (o serviço `worker-alta`)"),
    Variable("PROMETHEUS_PORT", "9090", "Prometheus (`--profile monitoring`), on 127.0.0.1",
             pt="o Prometheus (`--profile monitoring`), em 127.0.0.1"),
    Variable("GRAFANA_PORT", "3000", "Grafana (`--profile grafana`), on 127.0.0.1",
             pt="o Grafana (`--profile grafana`), em 127.0.0.1"),
    Variable("GRAFANA_USERNAME", "admin", "Grafana's administrator", pt="o administrador do Grafana"),
    Variable("GRAFANA_PASSWORD", "troque-esta-senha-do-grafana", "Grafana's administrator", secret=True,
             pt="a senha do administrador do Grafana"),
    Variable("FILA_REGISTRY", "", "where fila's images are pushed, with a trailing slash (`registry.example.com/`)",
             pt="para onde as imagens do fila são enviadas, com a barra no fim (`registry.example.com/`)"),
    Variable("FILA_VERSION", "0.1.0", "the tag of fila's images", pt="a versão (tag) das imagens do fila"),
    Variable("PYTHON_IMAGE", "python:3.12.8-slim-bookworm", "the base of fila's images (a build argument)",
             pt="a imagem base das imagens do fila"),
    Variable("REDIS_IMAGE", "redis:7.4.2-alpine", "Redis' image (the Sentinels' too)",
             pt="a imagem do Redis (e dos Sentinels)"),
    Variable("COMMANDER_IMAGE", "ghcr.io/joeferner/redis-commander:0.9.0", "Redis Commander's image",
             pt="a imagem do Redis Commander"),
    Variable("PROMETHEUS_IMAGE", "prom/prometheus:v2.53.3", "Prometheus' image", pt="a imagem do Prometheus"),
    Variable("GRAFANA_IMAGE", "grafana/grafana-oss:11.3.1", "Grafana's image", pt="a imagem do Grafana"),
)
#: fila's own secrets compose requires: the console's password and the key that signs its cookies.
ADMIN_VARIABLES = (
    Variable("ADMIN_PASSWORD", "troque-esta-senha-do-operador", "the operator's password (the console, the admin "
             "API)", secret=True, pt="a senha do painel (http://localhost:5000/painel, usuário admin) e da API de "
             "administração"),
    Variable("SECRET_KEY", "troque-esta-chave-secreta-longa-e-aleatoria", "signs session cookies and CSRF tokens",
             secret=True, pt="assina os cookies de sessão e os tokens CSRF (ninguém precisa digitá-la)"),
)


def invent(variable: Variable) -> str:
    """Return a random value for a secret: typeable for a password a person enters, long for a key."""
    if variable.name == "SECRET_KEY":
        return secrets.token_hex(32)
    return secrets.token_urlsafe(12)


def render(used: set[str], language: str) -> str:
    """Return a .env for compose: the variables compose uses, every secret random, comments in `language`."""
    english = language == "en"
    head = (["# fila's .env, written by `fila init` (make env): every password below was made up at random.",
             "# docker compose reads it. Keep it to yourself (it is in .gitignore).",
             "# The console's login: user admin, password ADMIN_PASSWORD below.", ""] if english else
            ["# O .env do fila, escrito por `fila init` (make env): cada senha abaixo foi sorteada.",
             "# O docker compose lê este arquivo. Não o compartilhe (ele está no .gitignore).",
             "# O login do painel: usuário admin, senha ADMIN_PASSWORD (abaixo).", ""])
    lines = list(head)
    for variable in (*ADMIN_VARIABLES, *(v for v in COMPOSE_VARIABLES if v.name in used)):
        value = invent(variable) if variable.secret else variable.default
        lines += [f"# {variable.help if english else variable.pt or variable.help}", f"{variable.name}={value}"]
    lines += ["", "# fila's settings: see .env.example and docs/configuration.md" if english else
              "# As configurações do fila: veja .env.example e docs/configuration.md"]
    return "\n".join(lines) + "\n"


def compose_names() -> set[str]:
    """Return the variables compose.yaml and the HA override read with `${...}`."""
    text = (ROOT / "compose.yaml").read_text() + (ROOT / "deploy" / "ha" / "compose.ha.yaml").read_text()
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))


def main(argv: list[str] | None = None) -> int:
    """Write (or print) the .env."""
    parser = argparse.ArgumentParser(prog="fila init", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="replace an existing .env")
    parser.add_argument("--print", action="store_true", help="print it instead of writing .env")
    parser.add_argument("--path", type=Path, default=ROOT / ".env", help="where to write it (default: .env)")
    args = parser.parse_args(argv)
    language = Settings.from_env().language
    english = language == "en"
    text = render(compose_names(), language)
    if args.print:
        print(text, end="")
        return 0
    if args.path.exists() and not args.force:
        print(f"{args.path} already exists: nothing changed (--force replaces it, and every password with it)"
              if english else f"{args.path} já existe: nada mudou (--force o substitui, e todas as senhas junto)",
              file=sys.stderr)
        return 1
    descriptor = os.open(args.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    print(f"{args.path} written: the console's login is admin / the ADMIN_PASSWORD in it" if english else
          f"{args.path} escrito: o login do painel é admin / a ADMIN_PASSWORD que está nele")
    return 0


if __name__ == "__main__":
    sys.exit(main())
