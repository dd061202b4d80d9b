"""The handout's routes, at its exact URLs and in its words: text for curl, JSON on request."""

from __future__ import annotations

import logging
import re
import time

from flask import Blueprint
from markupsafe import escape

from shared import keys
from shared.fibonacci import fib_naive
from web.context import fila
from web.responses import error, reply
from web.validation import name_problem, value_problem

bp = Blueprint("handout", __name__)
log = logging.getLogger(__name__)

_NUMBER = re.compile(r"[0-9]{1,9}")


@bp.route("/")
def hello():
    """Count a hit in Redis (INCR hits) and say how long Redis took."""
    start = time.perf_counter()
    count = fila().redis.incr(keys.HITS)
    elapsed = time.perf_counter() - start
    log.info("redis INCR %s -> %s", keys.HITS, count)
    return reply(f"Hello World! I have been seen {count} times.\nTempo de resposta: {elapsed:.6f} segundos",
                 {"hits": count, "elapsed_s": elapsed})


@bp.route("/sem-redis")
def hello_without_redis():
    """Answer the same greeting without touching Redis."""
    start = time.perf_counter()
    response = "Hello World! I have been seen times."
    elapsed = time.perf_counter() - start
    return reply(f"{response}\nTempo de resposta: {elapsed:.6f} segundos", {"elapsed_s": elapsed})


@bp.route("/inicio")
def start_page():
    """Answer the handout's first static route."""
    return reply("Página Inicial", {"page": "inicio"})


@bp.route("/sobre")
def about():
    """Answer the handout's /sobre."""
    return reply("Sobre o aplicativo...", {"page": "sobre"})


@bp.route("/contato")
def contact():
    """Answer the handout's /contato."""
    return reply("Página de contato.", {"page": "contato"})


@bp.route("/usuario/<nome>")
def greet(nome: str):
    """Greet by name, HTML-escaped (the handout's f-string was a reflected XSS)."""
    response = reply(f"Olá, {escape(nome)}!", {"greeting": f"Olá, {nome}!"})
    if response.mimetype == "text/plain":
        response.mimetype = "text/html"
    return response


def _bad_name(name: str, **kwargs):
    problem = name_problem(name, fila().settings, **kwargs)
    return error(400, problem, name=name) if problem else None


@bp.route("/set/<chave>/<valor>")
def set_value(chave: str, valor: str):
    """SET chave valor."""
    settings = fila().settings
    refusal = _bad_name(chave, writing=True)
    if refusal is None and (problem := value_problem(valor, settings)):
        refusal = error(400, problem)
    if refusal is not None:
        return refusal
    fila().redis.set(chave, valor)
    log.info("redis SET %s", chave)
    return reply(f"Valor {valor} foi armazenado com a chave {chave}", {"key": chave, "value": valor})


@bp.route("/get/<chave>")
def get_value(chave: str):
    """GET chave (404 when it does not exist)."""
    if refusal := _bad_name(chave):
        return refusal
    value = fila().redis.get(chave)
    log.info("redis GET %s -> %s", chave, "hit" if value is not None else "miss")
    if value is None:
        return reply("Chave não encontrada", {"error": "key not found", "key": chave}, 404)
    return reply(f"Valor recuperado: {value}", {"key": chave, "value": value})


@bp.route("/push/<lista>/<valor>")
def push(lista: str, valor: str):
    """LPUSH lista valor (the queue list `fila` feeds the workers)."""
    settings = fila().settings
    refusal = _bad_name(lista, writing=True, allow_queue=True)
    if refusal is None and (problem := value_problem(valor, settings)):
        refusal = error(400, problem)
    if refusal is not None:
        return refusal
    length = fila().redis.lpush(lista, valor)
    log.info("redis LPUSH %s (length %s)", lista, length)
    return reply(f"Valor {valor} adicionado à lista {lista}", {"list": lista, "value": valor, "length": length})


@bp.route("/pop/<lista>")
def pop(lista: str):
    """LPOP lista, as the handout does (404 when the list is empty)."""
    if refusal := _bad_name(lista, writing=True, allow_queue=True):
        return refusal
    value = fila().redis.lpop(lista)
    log.info("redis LPOP %s -> %s", lista, "value" if value is not None else "empty")
    if value is not None and lista == fila().settings.queue:
        fila().queue.forget(value)  # taken by hand: no worker will settle it
    if value is None:
        return reply(f"Lista {lista} está vazia ou não existe", {"error": "list is empty", "list": lista}, 404)
    return reply(f"Valor retirado da lista {lista}: {value}", {"list": lista, "value": value})


@bp.route("/listar/<lista>")
def list_values(lista: str):
    """LRANGE lista 0 N (at most LIST_SHOW_MAX values, and the total)."""
    if refusal := _bad_name(lista):
        return refusal
    limit = fila().settings.list_show_max
    with fila().redis.pipeline(transaction=False) as pipe:
        pipe.lrange(lista, 0, limit - 1)
        pipe.llen(lista)
        values, total = pipe.execute()
    log.info("redis LRANGE %s 0 %s (%s of %s)", lista, limit - 1, len(values), total)
    message = f"Valores na lista {lista}: {values}"
    if total > len(values):
        message += f" (mostrando {len(values)} de {total})"
    return reply(message, {"list": lista, "values": values, "total": total})


def _parse_n(raw: str, limit: int):
    if not _NUMBER.fullmatch(raw):
        return None, error(400, f"n must be a whole number from 0 to {limit}, got {raw!r}")
    return int(raw), None


@bp.route("/fib/<n>")
def fib_without_cache(n: str):
    """Compute Fibonacci(n) by the naive recursion in the request (bounded)."""
    limit = fila().settings.fib_naive_max
    value, refusal = _parse_n(n, limit)
    if refusal:
        return refusal
    if value > limit:
        return error(400, f"n={value} is too large for the naive recursion in a request (max {limit}); "
                          f"use /fib-job/{value} to compute it in the background", max=limit)
    start = time.perf_counter()
    result = fib_naive(value)
    elapsed = time.perf_counter() - start
    return reply(f"[SEM CACHE] Fibonacci({value}) = {result} (tempo: {elapsed:.4f} segundos)",
                 {"n": value, "result": str(result), "source": "computed", "elapsed_s": elapsed})


@bp.route("/fib-cache/<n>")
def fib_with_cache(n: str):
    """Answer Fibonacci(n) from the Redis cache `fib:<n>`, computing and caching it (SETEX) on a miss."""
    settings = fila().settings
    value, refusal = _parse_n(n, settings.fib_fast_max)
    if refusal:
        return refusal
    start = time.perf_counter()
    key = keys.fib(value)
    cached = fila().redis.get(key)
    if cached is not None:
        result, source, label = cached, "cache", "Redis (cache)"
        log.info("redis GET %s -> hit", key)
    elif value <= settings.fib_naive_max:
        result, source, label = str(fib_naive(value)), "computed", "calculado e salvo no Redis"
        fila().redis.set(key, result, ex=settings.fib_cache_ttl)  # SETEX
        log.info("redis GET %s -> miss; SETEX %s %s", key, key, settings.fib_cache_ttl)
    else:
        return error(400, f"Fibonacci({value}) is not cached and too large to compute in a request "
                          f"(max {settings.fib_naive_max}); use /fib-job/{value}", max=settings.fib_naive_max)
    elapsed = time.perf_counter() - start
    return reply(f"[COM CACHE] Fibonacci({value}) = {result} ({label}) (tempo: {elapsed:.4f} segundos)",
                 {"n": value, "result": result, "source": source, "elapsed_s": elapsed,
                  "ttl_s": settings.fib_cache_ttl})

