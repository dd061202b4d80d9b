"""The live page in headless Chromium: push messages through the form and watch them get processed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.processes import ROOT, start_granian, start_rq_worker, start_worker
from tests.support.redis_server import free_port

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]
SCREENSHOT = ROOT / "var/screenshots/painel.png"


@pytest.fixture
def system(settings):
    port = free_port()
    procs = [start_granian(settings, port, workers=1, threads=4), start_worker(settings), start_worker(settings),
             start_rq_worker(settings)]
    yield f"http://127.0.0.1:{port}"
    for proc in procs:
        proc.stop()


def test_push_messages_and_a_fib_job_from_the_page(system, rdb, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: make test installs it (scripts/ensure_chromium.sh)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                             env={"HOME": str(tmp_path)})
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{system}/painel")
        expect(page.locator("#updated")).to_contain_text("atualizado", timeout=10_000)
        expect(page.locator("#workers tr")).to_have_count(2)

        page.fill("#push-form input[name=count]", "40")
        page.fill("#push-form input[name=work_ms]", "30")
        page.click("#push-form button")
        expect(page.locator("#push-status")).to_have_text("40 mensagem(ns) enfileirada(s)")
        # The page refreshes by itself (no reload) until every message is processed.
        expect(page.locator("#done")).to_have_text("40", timeout=20_000)
        expect(page.locator("#results tr")).to_have_count(10)
        expect(page.locator("#results tr").first).to_contain_text("OLÁ, FILA")

        page.fill("#fib-form input[name=n]", "30")
        page.select_option("#fib-form select[name=algorithm]", "naive")
        page.click("#fib-form button")
        expect(page.locator("#fib-result")).to_have_text("F(30) = 832040", timeout=20_000)
        expect(page.locator("#jobs")).to_contain_text("fib(30, naive)")
        expect(page.locator("#jobs")).to_contain_text("finished")

        page.fill("#fib-form input[name=n]", "30")
        page.click("#fib-form button")
        expect(page.locator("#fib-status")).to_have_text("do cache (Redis)")
        assert errors == []
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert Path(SCREENSHOT).stat().st_size > 10_000
    assert int(rdb.hget("fila:stats:fila", "done")) == 40


def test_page_escapes_what_it_shows(system, rdb, tmp_path):
    chromium = shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                             env={"HOME": str(tmp_path)})
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{system}/painel")
        page.fill("#push-form input[name=text]", "<img src=x onerror=alert(1)>")
        page.fill("#push-form input[name=count]", "1")
        page.fill("#push-form input[name=work_ms]", "0")
        page.click("#push-form button")
        expect(page.locator("#results tr").first).to_contain_text("<IMG SRC=X ONERROR=ALERT(1)>", timeout=15_000)
        assert page.locator("#results img").count() == 0 and dialogs == []
        browser.close()
