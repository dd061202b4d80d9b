"""The handout's routes, at its exact URLs and in its words: text for curl, JSON on request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from flask import Blueprint, Response, request
from markupsafe import escape

from shared.core import keys
from shared.jobs.fibonacci import N_MAX, fib_naive
from shared.messages.envelope import HEAD
from web.access import Access, Limit, policy
from web.errors import refuse
from web.responses import reply
from web.services import services
from web.validation import user_key, user_value, whole_number

bp = Blueprint("handout", __name__)
log = logging.getLogger(__name__)

#: Naive recursions one web process runs at once: the rest of its threads stay free for every other
#: route (/healthz, /readyz, the API) however many clients ask for /fib at the same moment.
COMPUTING_AT_ONCE = 1
_computing = threading.BoundedSemaphore(COMPUTING_AT_ONCE)


@bp.route("/")
@policy(Access.OPEN)
def hello() -> Response:
    """Count a hit in Redis (INCR hits) and say how long Redis took.

    ---
    tags: [handout]
    responses:
      '200':
        description: The greeting with the hit count.
        content:
          text/plain:
            schema: {type: string, example: 'Hello World! I have been seen 1 times.

                Tempo de resposta: 0.000412 segundos'}
          application/json:
            schema:
              type: object
              required: [hits, elapsed_s]
              properties:
                hits: {type: integer, minimum: 1}
                elapsed_s: {type: number}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    start = time.perf_counter()
    count = services().redis.incr(keys.HITS)
    elapsed = time.perf_counter() - start
    log.info("redis INCR %s -> %s", keys.HITS, count)
    return reply(f"Hello World! I have been seen {count} times.\nTempo de resposta: {elapsed:.6f} segundos",
                 {"hits": count, "elapsed_s": elapsed})


@bp.route("/sem-redis")
@policy(Access.OPEN)
def hello_without_redis() -> Response:
    """Answer the same greeting without touching Redis.

    ---
    tags: [handout]
    responses:
      '200':
        description: The greeting.
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema:
              type: object
              required: [elapsed_s]
              properties:
                elapsed_s: {type: number}
    """
    start = time.perf_counter()
    response = "Hello World! I have been seen times."
    elapsed = time.perf_counter() - start
    return reply(f"{response}\nTempo de resposta: {elapsed:.6f} segundos", {"elapsed_s": elapsed})


@bp.route("/inicio")
@policy(Access.OPEN)
def start_page() -> Response:
    """Answer the handout's first static route.

    ---
    tags: [handout]
    responses:
      '200': {$ref: '#/components/responses/Page'}
    """
    return reply("Página Inicial", {"page": "inicio"})


@bp.route("/sobre")
@policy(Access.OPEN)
def about() -> Response:
    """Answer the handout's /sobre.

    ---
    tags: [handout]
    responses:
      '200': {$ref: '#/components/responses/Page'}
    """
    return reply("Sobre o aplicativo...", {"page": "sobre"})


@bp.route("/contato")
@policy(Access.OPEN)
def contact() -> Response:
    """Answer the handout's /contato.

    ---
    tags: [handout]
    responses:
      '200': {$ref: '#/components/responses/Page'}
    """
    return reply("Página de contato.", {"page": "contato"})


@bp.route("/usuario/<nome>")
@policy(Access.OPEN)
def greet(nome: str) -> Response:
    """Greet by name, HTML-escaped (the handout's f-string was a reflected XSS).

    ---
    tags: [handout]
    parameters:
    - name: nome
      in: path
      required: true
      schema: {type: string, minLength: 1}
    responses:
      '200':
        description: '"Olá, nome!", the name HTML-escaped.'
        content:
          text/html:
            schema: {type: string}
          application/json:
            schema:
              type: object
              required: [greeting]
              properties:
                greeting: {type: string}
      '404': {$ref: '#/components/responses/NotFound'}
    """
    response = reply(f"Olá, {escape(nome)}!", {"greeting": f"Olá, {nome}!"})
    if response.mimetype == "text/plain":
        response.mimetype = "text/html"
    return response


@bp.route("/set/<chave>/<valor>")
@policy(Access.OPEN, Limit.WRITES)
def set_value(chave: str, valor: str) -> Response:
    """SET chave valor.

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/Chave'}
    - {$ref: '#/components/parameters/Valor'}
    responses:
      '200':
        description: '"Valor <valor> foi armazenado com a chave <chave>".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema: {$ref: '#/components/schemas/KeyValue'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/WrongType'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    settings = services().settings
    user_key(chave, settings, kind="string", writing=True)
    user_value(valor, settings)
    # GET makes Redis refuse (WRONGTYPE) to replace a list, a hash... with a string: nothing is lost.
    services().redis.set(chave, valor, get=True)
    log.info("redis SET %s", chave)
    return reply(f"Valor {valor} foi armazenado com a chave {chave}", {"key": chave, "value": valor})


@bp.route("/get/<chave>")
@policy(Access.OPEN)
def get_value(chave: str) -> Response:
    """GET chave (404 when it does not exist).

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/Chave'}
    responses:
      '200':
        description: '"Valor recuperado: <valor>".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema: {$ref: '#/components/schemas/KeyValue'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/WrongType'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    user_key(chave, services().settings, kind="string")
    value = cast(str | None, services().redis.get(chave))
    log.info("redis GET %s -> %s", chave, "hit" if value is not None else "miss")
    if value is None:
        refuse(404, "key_not_found", f"key '{chave}' not found: store it first with /set/{chave}/<valor>",
               text="Chave não encontrada", key=chave)
    return reply(f"Valor recuperado: {value}", {"key": chave, "value": value})


@bp.route("/push/<lista>/<valor>")
@policy(Access.OPEN, Limit.WRITES)
def push(lista: str, valor: str) -> Response:
    """LPUSH lista valor (the queue list `fila` feeds the workers).

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/Lista'}
    - {$ref: '#/components/parameters/Valor'}
    responses:
      '200':
        description: '"Valor <valor> adicionado à lista <lista>".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema:
              type: object
              required: [list, value, length]
              properties:
                list: {type: string}
                value: {type: string}
                length: {type: integer, minimum: 1}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/WrongType'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    settings = services().settings
    user_key(lista, settings, kind="list", writing=True, allow_queue=True)
    user_value(valor, settings)
    if lista in settings.queue_names and valor.startswith(HEAD):
        refuse(400, "bad_value", f"values starting with {HEAD} are fila's own envelopes, which only fila makes: "
                                 "send the body with POST /api/messages instead",
               pt=f"valores que começam com {HEAD} são envelopes do próprio fila: envie o corpo com "
                  "POST /api/messages")
    length = services().redis.lpush(lista, valor)
    log.info("redis LPUSH %s (length %s)", lista, length)
    return reply(f"Valor {valor} adicionado à lista {lista}", {"list": lista, "value": valor, "length": length})


@bp.route("/pop/<lista>")
@policy(Access.OPEN, Limit.WRITES)
def pop(lista: str) -> Response:
    """LPOP lista, as the handout does (404 when the list is empty).

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/Lista'}
    responses:
      '200':
        description: '"Valor retirado da lista <lista>: <valor>".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema:
              type: object
              required: [list, value]
              properties:
                list: {type: string}
                value: {type: string}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/WrongType'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    user_key(lista, services().settings, kind="list", writing=True, allow_queue=True)
    value = cast(str | None, services().redis.lpop(lista))
    log.info("redis LPOP %s -> %s", lista, "value" if value is not None else "empty")
    if value is None:
        refuse(404, "list_empty", f"list '{lista}' is empty or does not exist: add to it with /push/{lista}/<valor>",
               text=f"Lista {lista} está vazia ou não existe", list=lista)
    if lista in services().queues:
        services().queues[lista].messages.forget(value)  # taken by hand: no worker will settle it
    return reply(f"Valor retirado da lista {lista}: {value}", {"list": lista, "value": value})


@bp.route("/listar/<lista>")
@policy(Access.OPEN)
def list_values(lista: str) -> Response:
    """LRANGE lista 0 N (at most LIST_SHOW_MAX values, and the total).

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/ListaRead'}
    responses:
      '200':
        description: '"Valores na lista <lista>: [...]".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema:
              type: object
              required: [list, values, total]
              properties:
                list: {type: string}
                values:
                  type: array
                  items: {type: string}
                total: {type: integer, minimum: 0}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/WrongType'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    user_key(lista, services().settings, kind="list")
    limit = services().settings.list_show_max
    with services().redis.pipeline(transaction=False) as pipe:
        pipe.lrange(lista, 0, limit - 1)
        pipe.llen(lista)
        values, total = pipe.execute()
    log.info("redis LRANGE %s 0 %s (%s of %s)", lista, limit - 1, len(values), total)
    message = f"Valores na lista {lista}: {values}"
    if total > len(values):
        message += f" (mostrando {len(values)} de {total})"
    return reply(message, {"list": lista, "values": values, "total": total})


#: The rate-limit demonstration: this many requests per window of this many seconds.
DEMO_LIMIT, DEMO_WINDOW = 5, 60


@bp.route("/limite")
@policy(Access.OPEN)
def limit_demo() -> Response:
    """Count this client's requests in a window with INCR + EXPIRE, as a rate limiter does; 429 past the limit.

    ---
    tags: [handout]
    responses:
      '200':
        description: '"Requisição N de 5 nesta janela de 60 s (a janela recomeça em S s ...)".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema:
              type: object
              required: [key, count, limit, window_s, reset_in_s]
              properties:
                key: {type: string}
                count: {type: integer, minimum: 1}
                limit: {type: integer}
                window_s: {type: integer}
                reset_in_s: {type: integer}
      '429': {$ref: '#/components/responses/TooMany'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    client = request.remote_addr or "desconhecido"
    key = keys.limit_demo(client)
    with services().redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, DEMO_WINDOW, nx=True)  # the first request of a window starts its clock
        pipe.ttl(key)
        count, _, left = pipe.execute()
    log.info("redis INCR %s -> %s (TTL %ss)", key, count, left)
    data = {"key": key, "count": count, "limit": DEMO_LIMIT, "window_s": DEMO_WINDOW, "reset_in_s": left}
    if count > DEMO_LIMIT:
        refuse(429, "rate_limited", f"{count} requests in this window of {DEMO_WINDOW} s, the limit is {DEMO_LIMIT}: "
                                    f"wait {left} s", text=f"Limite de {DEMO_LIMIT} requisições por {DEMO_WINDOW} s "
                                    f"atingido (esta foi a {count}ª): espere {left} s", retry_after=left, **data)
    return reply(f"Requisição {count} de {DEMO_LIMIT} nesta janela de {DEMO_WINDOW} s "
                 f"(a janela recomeça em {left} s; veja no redis-cli: GET {key} e TTL {key})", data)


def fib_n(raw: str) -> int:
    """Return n from a Fibonacci URL, or refuse it (400)."""
    return whole_number(raw, "n", 0, N_MAX, code="bad_number")


@contextmanager
def computing() -> Iterator[None]:
    """Hold one of the process's naive-recursion slots, or refuse (503, Retry-After) while they are all busy."""
    if not _computing.acquire(blocking=False):
        refuse(503, "busy", "another naive Fibonacci is being computed in this process: retry in a second, or use "
                            "/fib-cache/<n> or /fib-job/<n>",
               pt="outro Fibonacci ingênuo está sendo calculado neste processo: tente de novo em um segundo, ou use "
                  "/fib-cache/<n> ou /fib-job/<n>", retry_after=1)
    try:
        yield
    finally:
        _computing.release()


@bp.route("/fib/<n>")
@policy(Access.OPEN, Limit.CPU)
def fib_without_cache(n: str) -> Response:
    """Compute Fibonacci(n) by the naive recursion in the request (bounded).

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/NumberText'}
    responses:
      '200':
        description: '"[SEM CACHE] Fibonacci(n) = ... (tempo: ... segundos)".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema: {$ref: '#/components/schemas/Fibonacci'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
    """
    limit = services().settings.fib_naive_max
    value = fib_n(n)
    if value > limit:
        refuse(400, "too_large", f"n={value} is too large for the naive recursion in a request (max {limit}); "
                                 f"use /fib-job/{value} to compute it in the background",
               pt=f"n={value} é grande demais para a recursão ingênua numa requisição (máximo {limit}); "
                  f"use /fib-job/{value} para calcular em segundo plano", max=limit)
    with computing():
        start = time.perf_counter()
        result = fib_naive(value)
        elapsed = time.perf_counter() - start
    return reply(f"[SEM CACHE] Fibonacci({value}) = {result} (tempo: {elapsed:.4f} segundos)",
                 {"n": value, "result": str(result), "source": "computed", "elapsed_s": elapsed})


@bp.route("/fib-cache/<n>")
@policy(Access.OPEN, Limit.CPU)
def fib_with_cache(n: str) -> Response:
    """Answer Fibonacci(n) from the Redis cache `fib:<n>`, computing and caching it (SETEX) on a miss.

    ---
    tags: [handout]
    parameters:
    - {$ref: '#/components/parameters/NumberText'}
    responses:
      '200':
        description: '"[COM CACHE] Fibonacci(n) = ... (Redis (cache) | calculado e salvo no Redis)".'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema: {$ref: '#/components/schemas/Fibonacci'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    settings = services().settings
    value = fib_n(n)
    start = time.perf_counter()
    key = keys.fib(value)
    cached = cast(str | None, services().redis.get(key))
    if cached is not None:
        result, source, label = cached, "cache", "Redis (cache)"
        log.info("redis GET %s -> hit", key)
    elif value <= settings.fib_naive_max:
        with computing():
            result, source, label = str(fib_naive(value)), "computed", "calculado e salvo no Redis"
        services().redis.set(key, result, ex=settings.fib_cache_ttl)  # SETEX
        log.info("redis GET %s -> miss; SETEX %s %s", key, key, settings.fib_cache_ttl)
    else:
        refuse(400, "too_large", f"Fibonacci({value}) is not cached and too large to compute in a request "
                                 f"(max {settings.fib_naive_max}); use /fib-job/{value}",
               pt=f"Fibonacci({value}) não está no cache e é grande demais para calcular numa requisição "
                  f"(máximo {settings.fib_naive_max}); use /fib-job/{value}", max=settings.fib_naive_max)
    elapsed = time.perf_counter() - start
    return reply(f"[COM CACHE] Fibonacci({value}) = {result} ({label}) (tempo: {elapsed:.4f} segundos)",
                 {"n": value, "result": result, "source": source, "elapsed_s": elapsed,
                  "ttl_s": settings.fib_cache_ttl})
