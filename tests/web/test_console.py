"""The console in headless Chromium: every action on the page, its layout at 1280 and 390 px, escaping."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from shared.core import keys
from shared.core.ids import new_ids
from shared.messages.envelope import encode
from shared.messages.queue import MessageQueue
from shared.messages.schedule import Options
from tests.support.processes import ROOT, start_granian, start_rq_worker, start_worker
from tests.support.redis_server import free_port

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]
SCREENSHOT = ROOT / "var/screenshots/painel.png"


@pytest.fixture
def system(settings):
    port = free_port()
    procs = []
    try:
        for start in (lambda: start_granian(settings, port, workers=1, threads=4), lambda: start_worker(settings),
                      lambda: start_worker(settings), lambda: start_rq_worker(settings)):
            procs.append(start())
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
def browser(tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: make test installs it (scripts/test-packages.sh)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                              env={"HOME": str(tmp_path)})
        yield launched
        launched.close()


def open_page(browser, url: str, width: int = 1280, height: int = 1100,
              locale: str = "pt-BR") -> tuple[Page, list[str]]:
    """Open the console as a browser set to `locale` (its Accept-Language) would, and wait for its first figures."""
    page = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{url}/painel")
    updated = "atualizado" if locale.startswith("pt") else "updated"
    expect(page.locator("#updated")).to_contain_text(updated, timeout=10_000)
    return page, errors


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def make_dead(settings, rdb, count: int, error: str = "worker dying died while processing",
              text: str = "morta") -> list[str]:
    """Make dead letters the way fila does: a worker dies holding messages that have no attempts left.

    The messages are put straight into the dying worker's hands: the page's own workers, running,
    would otherwise take them first.
    """
    ids = new_ids(count)
    now = time.time()
    rdb.rpush(keys.processing("dying"),
              *[encode(i, json.dumps({"text": f"{text} {n} " + "x" * 300}), now) for n, i in enumerate(ids)])
    MessageQueue(rdb, dataclasses.replace(settings, max_attempts=1)).reclaim(
        "dying", error)
    return ids


def test_push_messages_and_a_fib_job_from_the_page(system, browser, rdb):
    page, errors = open_page(browser, system)
    expect(page.locator("#workers tr")).to_have_count(2)
    expect(page.locator("#workers tr").first).to_contain_text("vivo")
    page.fill("#push-form input[name=count]", "40")
    page.fill("#push-form input[name=work_ms]", "30")
    page.click("#push-form button")
    expect(page.locator("#push-status")).to_have_text("40 mensagem(ns) enfileirada(s)")
    # The page refreshes by itself (no reload) until every message is processed.
    expect(page.locator("#done")).to_have_text("40", timeout=20_000)
    expect(page.locator("#results tr")).to_have_count(10)
    expect(page.locator("#results tr").first).to_contain_text("o worker contou 3 palavra(s)")
    page.fill("#fib-form input[name=n]", "30")
    page.select_option("#fib-form select[name=algorithm]", "naive")
    page.click("#fib-form button")
    expect(page.locator("#fib-result")).to_have_text("F(30) = 832040", timeout=20_000)
    expect(page.locator("#jobs")).to_contain_text("fib(30, naive)")
    expect(page.locator("#jobs")).to_contain_text("pronto")
    page.fill("#fib-form input[name=n]", "30")
    page.click("#fib-form button")
    expect(page.locator("#fib-status")).to_have_text("do cache (Redis)")
    page.select_option("#history-range", "60")
    page.wait_for_function("Number(document.getElementById('history').dataset.done) >= 40", timeout=20_000)
    assert errors == []
    assert int(rdb.hget("fila:stats:fila", "done")) == 40


def test_pause_dead_letters_and_purge_from_the_page(system, browser, settings, rdb):
    page, errors = open_page(browser, system)
    page.click("#pause-button")
    expect(page.locator("#queue-state")).to_have_text("pausada")
    assert rdb.exists(keys.paused("fila"))
    ids = make_dead(settings, rdb, 6)
    expect(page.locator("#dead-letters tr")).to_have_count(6)
    expect(page.locator("#dead-letters tr").first).to_contain_text("worker dying died while processing")

    row = page.locator(f"#dead-letters tr[data-id='{ids[0]}']")
    row.locator("button[data-action=requeue]").click()
    expect(page.locator("#dead-status")).to_have_text(f"{ids[0]} reenfileirada")
    expect(page.locator("#length")).to_have_text("1")  # paused: it waits on the queue
    expect(page.locator("#oldest")).to_contain_text(" s")
    page.locator(f"#dead-letters tr[data-id='{ids[1]}'] button[data-action=delete]").click()
    expect(page.locator("#dead-status")).to_have_text(f"{ids[1]} apagada")
    for message_id in ids[2:4]:
        page.locator(f"#dead-letters tr[data-id='{message_id}'] input[type=checkbox]").check()
    page.click("#requeue-selected")
    expect(page.locator("#dead-status")).to_have_text("2 reenfileirada(s)")
    expect(page.locator("#dead-letters tr")).to_have_count(2)
    page.click("#requeue-all")
    expect(page.locator("#dead-status")).to_have_text("2 reenfileirada(s)")
    expect(page.locator("#dead-letters tr")).to_have_count(0)
    assert rdb.llen("fila") == 5 and rdb.zcard(keys.dead_index("fila")) == 0

    make_dead(settings, rdb, 3)
    expect(page.locator("#dead-letters tr")).to_have_count(3)
    page.click("#purge-all")
    expect(page.locator("#purge-confirm")).to_be_visible()
    page.click("#purge-no")  # the confirmation step: nothing is deleted on the first click
    assert rdb.zcard(keys.dead_index("fila")) == 3
    page.click("#purge-all")
    page.click("#purge-yes")
    expect(page.locator("#dead-status")).to_have_text("3 apagada(s)")
    expect(page.locator("#dead-letters tr")).to_have_count(0)

    page.click("#pause-button")
    expect(page.locator("#queue-state")).to_have_text("ativa")
    expect(page.locator("#length")).to_have_text("0", timeout=15_000)  # resumed: the workers took the five
    assert errors == []


def test_scheduled_messages_periodic_schedules_and_a_stuck_worker_on_the_page(settings, browser, rdb):
    from shared.messages.periodic import Schedule, Schedules
    from shared.messages.schedule import Options

    port = free_port()
    web = start_granian(settings, port, workers=1, threads=4)
    worker = start_worker(dataclasses.replace(settings, handler="tests.support.handlers:recording"))
    try:
        queue = MessageQueue(rdb, settings)
        later = int(time.time() * 1000) + 3_600_000
        kept, cancelled = queue.enqueue(['{"text": "<b>mais tarde</b>"}', '{"text": "cancelar"}'],
                                        [Options(due_ms=later), Options(due_ms=later + 1)])
        Schedules(rdb, settings).add(Schedule("limpeza", '{"text": "limpar"}', every_ms=3_600_000,
                                              created_ms=int(time.time() * 1000)))
        queue.enqueue(['{"key": "preso", "hang": true}'], [Options(timeout_ms=300)])
        page, errors = open_page(browser, f"http://127.0.0.1:{port}")
        expect(page.locator("#scheduled")).to_have_text("2")
        expect(page.locator("#scheduled-list tr")).to_have_count(2)
        expect(page.locator("#scheduled-list")).to_contain_text("<b>mais tarde</b>")  # shown as text, escaped
        page.locator(f"#scheduled-list tr[data-id='{cancelled}'] button[data-action=cancel]").click()
        expect(page.locator("#scheduled-status")).to_have_text(f"{cancelled} cancelada")
        expect(page.locator("#scheduled-list tr")).to_have_count(1)
        assert rdb.zscore(keys.scheduled("fila"), kept) is not None and rdb.zscore(keys.scheduled("fila"),
                                                                                    cancelled) is None
        expect(page.locator("#schedules-list tr")).to_have_count(1)
        expect(page.locator("#schedules-list")).to_contain_text("a cada 1 h")
        expect(page.locator("#workers")).to_contain_text("travado (", timeout=10_000)  # past its 300 ms
        # One message in hand, nothing completing: the backlog never drains; keep the worker there is.
        expect(page.locator("#drain")).to_have_text("nunca (nada termina)")
        expect(page.locator("#wanted")).to_have_text("pede 1 worker(s)")
        page.locator("#schedules-list tr[data-name='limpeza'] button[data-action=remove]").click()
        expect(page.locator("#schedules-status")).to_have_text("limpeza removido")
        expect(page.locator("#schedules-list tr")).to_have_count(0)
        assert rdb.hlen(keys.schedules("fila")) == 0
        assert errors == []
    finally:
        worker.stop()
        web.stop()


class SentInATrace:
    """Stands for the web's tracing: the messages it sends carry a trace (shared/core/otel.py's `sending`)."""

    TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

    @contextlib.contextmanager
    def sending(self, queue: str, count: int):
        yield f"00-{self.TRACE}-00f067aa0ba902b7-01", self.TRACE


def test_search_tells_a_message_s_and_a_job_s_story(system, browser, settings, rdb):
    page, errors = open_page(browser, system)
    (dead_id,) = make_dead(settings, rdb, 1)
    page.fill("#search-form input[name=id]", dead_id)
    page.click("#search-form button")
    expect(page.locator("#story-title")).to_have_text(f"mensagem {dead_id}")
    expect(page.locator("#story")).to_contain_text("morta")
    expect(page.locator("#story")).to_contain_text("worker dying died while processing")
    expect(page.locator("#story")).to_contain_text("morta 0")  # the whole body of a dead letter
    # Its timeline: put straight into a dying worker's hands, then reclaimed into the dead letters.
    expect(page.locator("#timeline li")).to_have_count(2)
    expect(page.locator("#timeline li").nth(0)).to_contain_text("o worker morreu com ela: devolvida à fila")
    expect(page.locator("#timeline li").nth(0)).to_contain_text("from: dying")
    expect(page.locator("#timeline li").nth(1)).to_contain_text("morta (dead letter)")
    expect(page.locator("#timeline summary").nth(1)).to_have_text("RECLAIM (lua/reclaim.lua)")
    page.fill("#push-form input[name=count]", "1")
    page.click("#push-form button")
    expect(page.locator("#results tr")).to_have_count(1, timeout=10_000)
    done_id = page.locator("#results tr td").first.inner_text()
    page.fill("#search-form input[name=id]", done_id)
    page.click("#search-form button")
    expect(page.locator("#story")).to_contain_text("processada")
    expect(page.locator("#story")).to_contain_text("o worker contou")
    expect(page.locator("#story")).to_contain_text("words")  # the result's JSON, as stored
    expect(page.locator("#timeline-title")).to_contain_text("3 passo(s), guardados por 1 h")
    expect(page.locator("#timeline li")).to_have_count(3)
    for n, word in enumerate(("enfileirada", "pega por um worker", "processada")):
        expect(page.locator("#timeline li strong").nth(n)).to_have_text(word)
    expect(page.locator("#timeline li").nth(0)).to_contain_text("route: POST /api/queues/fila/messages")
    page.locator("#timeline summary").nth(1).click()  # the taken step's commands, opened
    expect(page.locator("#timeline pre").nth(1)).to_be_visible()
    expect(page.locator("#timeline pre").nth(1)).to_contain_text(f"HSET {keys.pending('fila')} {done_id}")
    # A message sent in a trace (tracing on, docs/tracing.md): its first step names the trace.
    (traced_id,) = MessageQueue(rdb, settings, SentInATrace()).enqueue(['"rastreada"'])
    page.fill("#search-form input[name=id]", traced_id)
    page.click("#search-form button")
    expect(page.locator("#timeline li").nth(0)).to_contain_text(f"trace: {SentInATrace.TRACE}")
    page.fill("#fib-form input[name=n]", "25")
    page.select_option("#fib-form select[name=algorithm]", "naive")
    page.click("#fib-form button")
    expect(page.locator("#fib-result")).to_have_text("F(25) = 75025", timeout=20_000)
    job_id = rdb.zrange("rq:finished:fib", 0, 0)[0]
    page.fill("#search-form input[name=id]", job_id)
    page.click("#search-form button")
    expect(page.locator("#story-title")).to_have_text(f"job {job_id}")
    expect(page.locator("#story")).to_contain_text("75025")
    assert errors == []
    page.fill("#search-form input[name=id]", "01M8AKS6Q7JGTGH5J7BPCXBTED")
    page.click("#search-form button")
    expect(page.locator("#story-title")).to_contain_text("nada encontrado")
    expect(page.locator("#story")).to_contain_text("nenhuma mensagem com esse id")
    assert all("404" in error for error in errors)  # the browser logs the 404 the search expected


def test_the_page_fits_1280_and_390_pixels_and_escapes_what_it_shows(system, browser, settings, rdb):
    long_text = "<img src=x onerror=alert(1)> " + "palavra" * 200
    page, errors = open_page(browser, system)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.fill("#push-form input[name=text]", long_text[:1000])
    page.fill("#push-form input[name=count]", "12")
    page.fill("#push-form input[name=work_ms]", "0")
    page.click("#push-form button")
    expect(page.locator("#results tr")).to_have_count(10, timeout=15_000)
    page.fill("#search-form input[name=id]", page.locator("#results tr td").first.inner_text())
    page.click("#search-form button")
    expect(page.locator("#story")).to_contain_text("<IMG SRC=X ONERROR=ALERT(1)")
    make_dead(settings, rdb, 4)
    expect(page.locator("#dead-letters tr")).to_have_count(4)
    assert page.locator("#results img, #story img, #dead-letters img").count() == 0 and dialogs == []
    assert no_horizontal_scroll(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert Path(SCREENSHOT).stat().st_size > 10_000

    phone, phone_errors = open_page(browser, system, width=390, height=844)
    expect(phone.locator("#dead-letters tr")).to_have_count(4)
    assert no_horizontal_scroll(phone)
    phone.fill("#search-form input[name=id]", page.locator("#results tr td").first.inner_text())
    phone.click("#search-form button")
    expect(phone.locator("#timeline li")).to_have_count(3)
    for summary in phone.locator("#timeline summary").all():
        summary.click()  # every step's commands shown: the longest lines of the page
    assert no_horizontal_scroll(phone)
    for control in ("#pause-button", "#search-form button", "#push-form button", "#requeue-all"):
        box = phone.locator(control).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, control
    phone.click("#pause-button")
    expect(phone.locator("#queue-state")).to_have_text("pausada")
    assert errors == [] and phone_errors == []


def test_an_operator_signs_in_acts_with_the_csrf_token_and_signs_out(settings, rdb, browser):
    locked = dataclasses.replace(settings, admin_password="segredo-do-operador")
    port = free_port()
    web = start_granian(locked, port, workers=1, threads=4)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="pt-BR")
        page.goto(f"http://127.0.0.1:{port}/painel")
        expect(page).to_have_url(re.compile(r"/login\?next=/painel"))
        page.fill("#login-form input[name=username]", "admin")
        page.fill("#login-form input[name=password]", "errada")
        page.click("#login-form button")
        expect(page.locator("#login-error")).to_have_text("usuário ou senha inválidos")
        page.fill("#login-form input[name=username]", "admin")
        page.fill("#login-form input[name=password]", "segredo-do-operador")
        page.click("#login-form button")
        expect(page).to_have_url(re.compile(r"/painel$"))
        expect(page.locator("#updated")).to_contain_text("atualizado", timeout=10_000)
        page.click("#pause-button")  # a change: the page sends its CSRF token with it
        expect(page.locator("#queue-state")).to_have_text("pausada")
        assert rdb.exists(keys.paused("fila"))
        (session_key,) = rdb.keys(f"{keys.SESSION_PREFIX}*")
        page.click("#logout")
        expect(page).to_have_url(re.compile(r"/login$"))
        assert not rdb.exists(session_key)
        page.goto(f"http://127.0.0.1:{port}/painel")
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        web.stop()


def _words(language: str) -> dict[str, str]:
    from web.i18n import words

    return words(language)


@pytest.mark.parametrize("locale, language, other", [("pt-BR", "pt-BR", "en"), ("en-US", "en", "pt-BR")])
@pytest.mark.parametrize("width, height", [(1280, 1100), (390, 844)])
def test_the_console_speaks_one_language_at_a_time(system, browser, settings, rdb, locale, language, other, width,
                                                  height):
    """A browser set to Portuguese or English gets the whole page in it: no text of the other language shows."""
    make_dead(settings, rdb, 2, error="E42", text="m")  # a dead letter's error and body are data, not the page's
    page, errors = open_page(browser, system, width, height, locale=locale)
    expect(page.locator("#dead-letters tr")).to_have_count(2)
    page.fill("#search-form input[name=id]", "nada")
    page.click("#search-form button")
    expect(page.locator("#search-result")).to_be_visible()
    mine, theirs = _words(language), _words(other)
    assert page.locator("html").get_attribute("lang") == language
    shown = page.evaluate("document.body.innerText") + " " + " ".join(
        page.evaluate("[...document.querySelectorAll('[aria-label],[placeholder]')]"
                      ".map(e => e.getAttribute('aria-label') || e.getAttribute('placeholder'))"))
    for key in ("card_length", "push_title", "dead_title", "results_title", "unknown_id", "requeue", "alive"):
        assert mine[key] in shown, key
    foreign = [text for key, text in theirs.items()
               if "{" not in text and text != mine[key] and not any(text in own for own in mine.values())
               and len(text) > 3 and text in shown]
    assert foreign == [], f"text of {other} on the {language} page"
    assert no_horizontal_scroll(page) and errors == [], errors


def test_a_tab_per_named_queue_each_showing_and_feeding_its_own_queue(settings, browser, rdb):
    """QUEUES=fila,alta: the page shows a tab per queue; alta's tab counts alta, pushes to alta, pauses alta."""
    from shared.core.settings import Settings

    named = Settings.from_env({**settings.env(), "QUEUES": "fila,alta"})
    port = free_port()
    web = start_granian(named, port, workers=1, threads=4)
    try:
        page, errors = open_page(browser, f"http://127.0.0.1:{port}")
        expect(page.locator("#queue-tabs a")).to_have_count(2)
        page.click("#queue-tabs a[data-queue=alta]")
        expect(page.locator("#queue-tabs a[aria-current=page]")).to_have_attribute("data-queue", "alta")
        expect(page.locator("#updated")).to_contain_text("atualizado", timeout=10_000)
        page.fill("#push-form input[name=count]", "7")
        page.click("#push-form button")
        expect(page.locator("#length")).to_have_text("7", timeout=10_000)
        expect(page.locator("#queue-tabs a[data-queue=alta] [data-length]")).to_have_text("7")
        expect(page.locator("#queue-tabs a[data-queue=fila] [data-length]")).to_have_text("0")
        page.click("#pause-button")
        expect(page.locator("#queue-state")).to_have_text("pausada")
        assert errors == []
    finally:
        web.stop()
    assert rdb.llen("alta") == 7 and rdb.llen("fila") == 0
    assert rdb.exists(keys.paused("alta")) and not rdb.exists(keys.paused("fila"))


#: Each word of each visible table cell that is wider than its cell: [table, word, word px, cell px]. A word
#: ends at a space or after a hyphen (where a line may break: `host-123` may end a line after `host-`).
NARROWER_THAN_A_WORD = """
() => {
  const found = [];
  for (const cell of document.querySelectorAll("table th, table td")) {
    if (!cell.offsetParent) continue;
    const style = getComputedStyle(cell);
    const room = cell.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    for (const text of texts) {
      for (const word of text.textContent.split(/\\s+|(?<=-)/).filter(Boolean)) {
        const probe = document.createElement("span");
        probe.style.whiteSpace = "nowrap";
        probe.textContent = word;
        text.parentNode.appendChild(probe);
        const width = probe.getBoundingClientRect().width;
        probe.remove();
        if (width > room + 1) found.push([cell.closest("table").className, word, Math.round(width), Math.round(room)]);
      }
    }
  }
  return found;
}
"""


@pytest.mark.parametrize("width, height", [(1280, 1100), (390, 844)])
def test_every_table_is_readable_no_cell_narrower_than_its_longest_word(system, browser, settings, rdb, width,
                                                                       height):
    """The phone's tables scroll sideways (the first column stays) rather than break a word a letter a line."""
    page, errors = open_page(browser, system, width=width, height=height)
    page.fill("#push-form input[name=count]", "12")
    page.click("#push-form button")
    expect(page.locator("#results tr")).to_have_count(10, timeout=15_000)
    make_dead(settings, rdb, 3, error="RuntimeError: downstream service unavailable after several attempts")
    MessageQueue(rdb, settings).enqueue(['"later"'], [Options(due_ms=int(time.time() * 1000) + 3_600_000)])
    expect(page.locator("#dead-letters tr")).to_have_count(3)
    expect(page.locator("#scheduled-list tr")).to_have_count(1)
    expect(page.locator("#workers tr")).to_have_count(2)
    assert page.evaluate(NARROWER_THAN_A_WORD) == []
    assert no_horizontal_scroll(page) and errors == []


def test_dead_letters_grouped_by_error_requeued_or_deleted_a_group_at_a_time(settings, browser, rdb):
    """Two groups on the page (a dead worker's, a timeout's); one requeued, the other deleted, from their buttons."""
    port = free_port()
    web = start_granian(settings, port, workers=1, threads=4)
    try:
        reaped = make_dead(settings, rdb, 6, error="worker dying-77 died while processing")
        make_dead(settings, rdb, 2, error="timeout")
        page, errors = open_page(browser, f"http://127.0.0.1:{port}")
        expect(page.locator("#dead-groups tr")).to_have_count(2)
        expect(page.locator("#dead-groups tr").first).to_contain_text("worker <id> died while processing")
        expect(page.locator("#groups-count")).to_have_text("(2)")
        page.locator("#dead-groups tr").first.locator("button[data-action=requeue-group]").click()
        expect(page.locator("#groups-status")).to_have_text("6 reenfileirada(s)")
        expect(page.locator("#dead-groups tr")).to_have_count(1)
        page.locator("#dead-groups tr").first.locator("button[data-action=delete-group]").click()
        expect(page.locator("#groups-status")).to_have_text("2 apagada(s)")
        expect(page.locator("#dead-groups tr")).to_have_count(0, timeout=5_000)
        expect(page.locator("#dead-letters tr")).to_have_count(0)
        assert errors == []
    finally:
        web.stop()
    assert sorted(decode_ids(rdb.lrange("fila", 0, -1))) == sorted(reaped)
    assert rdb.zcard(keys.dead_index("fila")) == 0


def decode_ids(entries: list[str]) -> list[str]:
    from shared.messages.envelope import envelope_id

    return [str(envelope_id(entry)) for entry in entries]


def test_the_proofs_panel_shows_each_modes_last_experiment_at_both_widths(system, browser, settings, rdb):
    from shared.messages import proof

    for delivery, lost, duplicated in (("reliable", 0, 7), ("brpop", 31, 0)):
        proof.save(rdb, proof.Proof("kill-worker", delivery, 2000, 2000, 2000 - lost, lost, duplicated, 1,
                                    time.time(), 4.2))
    proof.save(rdb, proof.Proof("restart-redis", "reliable", 2000, 1960, 2000, 0, 3, 1, time.time(), 2.5, 40,
                                "everysec"))
    for width in (1280, 390):
        page, errors = open_page(browser, system, width=width, height=900)
        expect(page.locator("#prove-list tr")).to_have_count(3)
        expect(page.locator("#prove-how")).to_contain_text("Desligado aqui (ALLOW_EXPERIMENTS=0)")
        reliable, brpop, restart = page.locator("#prove-list tr").all()
        expect(reliable.locator("td").nth(0)).to_have_text("kill-worker · reliable")
        expect(reliable).to_contain_text("o reaper devolveu as do worker morto, 0 perdida(s); 7 rodaram duas vezes")
        expect(brpop.locator("td").nth(2)).to_have_text("31")
        expect(brpop).to_contain_text("Com BRPOP (o laço da apostila)")
        expect(restart.locator("td").nth(0)).to_have_text("restart-redis · reliable")
        expect(restart).to_contain_text("(appendfsync everysec): 40 envio(s) recusado(s) enquanto ele estava fora")
        assert no_horizontal_scroll(page) and errors == []
