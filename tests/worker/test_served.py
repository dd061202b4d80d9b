"""QUEUES, per-queue options, `--queues` and the order a worker of several queues takes from them (unit tests)."""

from __future__ import annotations

import threading

import fakeredis
import pytest

from shared.core.settings import Settings
from worker import served

NAMED = {"QUEUES": "fila,alta,baixa", "QUEUE_ALTA_MAX_ATTEMPTS": "2",
         "QUEUE_ALTA_HANDLER": "tests.support.handlers:poison", "QUEUE_BAIXA_RATE_LIMIT": "50",
         "QUEUE_BAIXA_TIMEOUT_MS": "1000", "QUEUE_BAIXA_RETRY_BASE_MS": "0"}


def test_each_queue_runs_with_its_own_options_over_the_shared_ones():
    settings = Settings.from_env(NAMED)
    assert settings.queue_names == ("fila", "alta", "baixa") and settings.default_queue == "fila"
    alta, baixa, fila = (settings.for_queue(name) for name in ("alta", "baixa", "fila"))
    assert (alta.max_attempts, alta.handler, alta.queue_name) == (2, "tests.support.handlers:poison", "alta")
    assert (baixa.queue_rate_limit, baixa.handler_timeout_ms, baixa.retry_base_ms) == (50.0, 1000, 0)
    assert (fila.max_attempts, fila.handler) == (settings.max_attempts, settings.handler)
    assert Settings.from_env(settings.env()) == settings  # what a child process is given reads back the same
    with pytest.raises(KeyError):
        settings.for_queue("nope")


@pytest.mark.parametrize(("environ", "named"), [
    ({"QUEUES": "fila,fila"}, "twice"),
    ({"QUEUES": "fila,a b"}, "not a queue name"),
    ({"QUEUES": "fila,fila:x"}, "not a queue name"),
    ({"QUEUES": ",".join(f"q{i}" for i in range(33))}, "at most 32"),
    ({"QUEUES": "alta,fila", "QUEUE_NAME": "fila"}, "QUEUE_NAME"),
    ({"QUEUES": "fila,alta", "QUEUE_ALTA_MAX_ATTEMPTS": "0"}, "max attempts"),
    ({"QUEUES": "fila,alta", "QUEUE_ALTA_RATE_LIMIT": "fast"}, "QUEUE_ALTA_RATE_LIMIT"),
])
def test_a_bad_queues_setting_stops_at_start_naming_what_is_wrong(environ, named):
    with pytest.raises(ValueError, match=named):
        Settings.from_env(environ)


def test_queues_without_queue_name_make_their_first_the_default():
    settings = Settings.from_env({"QUEUES": "alta,baixa"})
    assert settings.queue_name == settings.default_queue == "alta"
    assert Settings.from_env({}).queue_names == ("fila",)  # unset: the handout's one queue


@pytest.mark.parametrize(("spec", "parsed"), [
    ("alta,fila", [("alta", 0), ("fila", 0)]),
    ("alta:5, fila:1", [("alta", 5), ("fila", 1)]),
    ("", [("fila", 0)]),
])
def test_queues_of_a_worker_are_read_in_order(spec, parsed):
    assert served.parse(spec, Settings.from_env(NAMED)) == parsed


@pytest.mark.parametrize(("spec", "named"), [
    ("alta,nope", "not declared"), ("alta,alta", "twice"), ("alta:5,fila", "every queue a weight"),
    ("alta:0,fila:1", "whole number"), ("alta:x", "whole number"), ("alta:1001", "whole number"),
])
def test_a_bad_queues_option_is_refused(spec, named):
    with pytest.raises(ValueError, match=named):
        served.parse(spec, Settings.from_env(NAMED))


def test_each_served_queue_has_its_handler_and_its_rate_limit():
    settings = Settings.from_env(NAMED)
    built = served.build(fakeredis.FakeRedis(decode_responses=True), settings,
                         served.parse("alta,baixa", settings), threading.Event())
    assert [each.name for each in built] == ["alta", "baixa"]
    assert built[0].handler.__name__ == "poison" and built[0].throttle is None
    assert built[1].throttle is not None and built[1].throttle.rate == 50.0


def drive(order: served.Order, takes: int, batch, empty: frozenset[str] = frozenset()) -> dict[str, int]:
    """Take `takes` batches (of `batch(n)` messages) in the order's order, skipping empty queues; count by queue."""
    had: dict[str, int] = {}
    for n in range(takes):
        chosen = next(each for each in order.next() if each.name not in empty)
        count = batch(n)
        order.took(chosen, count)
        had[chosen.name] = had.get(chosen.name, 0) + count
    return had


def weighted(spec: str) -> served.Order:
    settings = Settings.from_env(NAMED)
    return served.Order(served.build(fakeredis.FakeRedis(decode_responses=True), settings,
                                     served.parse(spec, settings), threading.Event()))


def test_weights_hold_in_messages_whatever_the_batch_sizes():
    had = drive(weighted("alta:5,fila:3,baixa:1"), 3000, batch=lambda n: 1 + (n * 7919) % 97)
    total = sum(had.values())
    for name, weight in (("alta", 5), ("fila", 3), ("baixa", 1)):
        assert abs(had[name] / total - weight / 9) <= 0.01 * weight / 9 * 10, had


def test_a_queue_that_was_empty_gets_its_share_not_a_burst():
    order = weighted("alta:1,fila:1")
    drive(order, 1000, batch=lambda _: 10, empty=frozenset({"fila"}))  # fila empty for a while
    after = drive(order, 100, batch=lambda _: 10)
    assert after == {"alta": 500, "fila": 500}


def test_priority_order_is_the_order_named():
    order = weighted("baixa,alta")
    assert [each.name for each in order.next()] == ["baixa", "alta"]
    assert [each.name for each in order.next()] == ["baixa", "alta"]


def test_a_lighter_queue_takes_its_share_of_a_batch():
    order = weighted("alta:5,fila:3,baixa:1")
    by_name = {each.name: each for each in order.served}
    assert [order.most(by_name[name], 500) for name in ("alta", "fila", "baixa")] == [500, 300, 100]
    assert order.most(by_name["baixa"], 3) == 1  # never nothing
    assert weighted("alta,fila").most(by_name["fila"], 500) == 500  # priority order: whole batches
