"""Prometheus for real: the alert rules pass promtool, a real Prometheus scraping a running fila reads what
/api/queues says, and the Grafana dashboard asks only for metrics fila exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest
import requests

from shared.messages.queue import MessageQueue
from tests.support.polling import wait_for
from tests.support.processes import ROOT, Proc
from tests.support.redis_server import free_port

pytestmark = pytest.mark.slow
MONITORING = ROOT / "deploy" / "monitoring"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: make test installs Debian's prometheus package (scripts/test-packages.sh)"
    return found


def test_alert_rules_are_valid_and_pass_their_unit_tests():
    checked = subprocess.run([tool("promtool"), "check", "rules", "alerts.yml"], cwd=MONITORING, capture_output=True,
                             text=True)
    declared = len(re.findall(r"^\s*- alert:", (MONITORING / "alerts.yml").read_text(), re.MULTILINE))
    assert declared >= 8  # each alert of docs/console-and-monitoring.md, FilaRedisFull and FilaRedisMemoryHigh included
    assert checked.returncode == 0 and f"SUCCESS: {declared} rules found" in checked.stdout, \
        checked.stdout + checked.stderr
    tested = subprocess.run([tool("promtool"), "test", "rules", "alerts.test.yml"], cwd=MONITORING,
                            capture_output=True, text=True)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    config = subprocess.run([tool("promtool"), "check", "config", "--syntax-only", "prometheus.yml"], cwd=MONITORING,
                            capture_output=True, text=True)
    assert config.returncode == 0, config.stdout + config.stderr


def exposed_families(web_url: str) -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"{web_url}/metrics", timeout=5).text
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names |= {sample.name for sample in family.samples}
    return names


def test_the_grafana_dashboard_asks_only_for_metrics_that_exist(web_url):
    dashboard = json.loads((MONITORING / "grafana" / "fila-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    asked = {name for expr in exprs for name in re.findall(r"\bfila_[a-z_]+\b", expr)}
    assert len(asked) >= 12
    assert sorted(asked - exposed_families(web_url)) == []


def test_a_real_prometheus_reads_what_the_api_says(web_url, settings, rdb, tmp_path):
    queue = MessageQueue(rdb, settings)
    queue.enqueue(['"a"'] * 7)
    import dataclasses

    dying = MessageQueue(rdb, dataclasses.replace(settings, max_attempts=1))
    dying.enqueue(['"b"'] * 2)
    dying.take("gone", 2)  # the two newest: the seven older stay queued
    dying.reclaim("gone", "bench")
    queue.pause()
    port = free_port()
    target = web_url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{MONITORING / 'alerts.yml'}]\n"
        f"scrape_configs: [{{job_name: fila, static_configs: [{{targets: ['{target}']}}]}}]\n")
    server = Proc([tool("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                   f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                  {"PATH": "/usr/bin:/bin"}, name="prometheus")
    try:
        def query(expr: str) -> float | None:
            reply = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": expr}, timeout=5).json()
            result = reply["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        started = time.time()
        wait_for(lambda: (query("timestamp(fila_queue_length)") or 0) > started, timeout=60, interval=0.5,
                 message="Prometheus scraped fila")
        api = requests.get(f"{web_url}/api/queues", timeout=5).json()["queues"]
        messages, jobs = api[0], api[1]
        expected = {
            "fila_queue_length": messages["length"], "fila_queue_in_flight": messages["in_flight"],
            "fila_dead_letters": messages["dead"], "fila_messages_enqueued_total": messages["enqueued"],
            "fila_messages_processed_total": messages["done"],
            "fila_messages_dead_lettered_total": messages["dead_lettered"], "fila_queue_paused": 1,
            "fila_workers_live": 0, "fila_redis_up": 1, 'fila_rq_jobs{state="queued"}': jobs["length"],
            'up{job="fila"}': 1,
        }
        assert (messages["length"], messages["dead"], messages["enqueued"]) == (7, 2, 9)
        assert {expr: query(expr) for expr in expected} == {expr: float(v) for expr, v in expected.items()}
        age = query("fila_queue_oldest_age_seconds")
        assert age is not None and abs(age - messages["oldest_age_s"]) < 5
        assert query('fila_build_info{version!=""}') == 1.0
        # A rule fires on what fila exposes: messages that die now make the dead-letter counter rise.
        assert query('ALERTS{alertname="FilaDeadLettersRising"}') is None
        queue.resume()  # a paused queue gives nothing to take, not even to a worker about to die
        dying.enqueue(['"c"'] * 3)
        dying.take("gone", 3)
        dying.reclaim("gone", "dies again")
        wait_for(lambda: query('ALERTS{alertname="FilaDeadLettersRising", alertstate="firing"}') == 1.0,
                 timeout=30, interval=0.5, message="the dead-letters alert fired")
    finally:
        server.stop()
