// fila's live page: polls /api/painel every second and draws what it gets.
// Every value reaches the page through textContent, never innerHTML.
"use strict";

const REFRESH_MS = 1000;

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(id, items, columns) {
  const body = document.getElementById(id);
  const rows = items.map((item) => {
    const tr = document.createElement("tr");
    columns.forEach(([get, className]) => cell(tr, get(item), className ? className(item) : undefined));
    return tr;
  });
  body.replaceChildren(...rows);
}

function short(value, size = 60) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text && text.length > size ? text.slice(0, size) + "…" : text;
}

function drawChart(values) {
  const canvas = document.getElementById("chart");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const peak = Math.max(1, ...values);
  const barWidth = width / values.length;
  ctx.fillStyle = "#c2410c";
  values.forEach((value, i) => {
    const barHeight = (value / peak) * (height - 18);
    ctx.fillRect(i * barWidth, height - barHeight, Math.max(1, barWidth - 1), barHeight);
  });
  ctx.fillStyle = "#6b7280";
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(`pico: ${peak}/s`, 4, 12);
}

function render(data) {
  const q = data.queue;
  for (const key of ["length", "in_flight", "done", "dead"]) {
    document.getElementById(key).textContent = q[key].toLocaleString("pt-BR");
  }
  document.getElementById("rate").textContent = q.rate_1m.toLocaleString("pt-BR");
  drawChart(data.throughput);
  fillTable("workers", data.workers, [
    [(w) => w.name], [(w) => w.delivery], [(w) => w.processed, () => "num"],
    [(w) => w.in_flight, () => "num"], [(w) => `${w.heartbeat_age_s.toFixed(1)} s`, () => "num"],
  ]);
  fillTable("results", data.results, [
    [(r) => r.id], [(r) => r.worker], [(r) => (r.ms === null ? "" : r.ms.toFixed(2)), () => "num"],
    [(r) => short(r.result ?? r.error)],
  ]);
  const rq = data.rq;
  document.getElementById("rq-name").textContent = rq.name;
  document.getElementById("rq-summary").textContent =
    `${rq.length} esperando, ${rq.started} rodando, ${rq.finished} prontos, ${rq.failed} falhos, ${rq.workers} worker(s)`;
  fillTable("jobs", data.jobs, [
    [(j) => j.id.slice(0, 8)], [(j) => j.description], [(j) => j.status, (j) => `status-${j.status}`],
    [(j) => short(j.result, 50)],
  ]);
  document.getElementById("updated").textContent = `atualizado às ${new Date().toLocaleTimeString("pt-BR")}`;
}

async function refresh() {
  try {
    const response = await fetch("/api/painel", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    document.getElementById("updated").textContent = `sem conexão com o fila (${error.message}); tentando de novo…`;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

async function postJSON(url, payload) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return { status: response.status, body };
}

document.getElementById("push-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const count = Number(form.get("count"));
  const workMs = Number(form.get("work_ms") || 0);
  const messages = Array.from({ length: count }, (_, i) => ({
    body: { text: `${form.get("text")} #${i + 1}`, work_ms: workMs },
  }));
  const status = document.getElementById("push-status");
  try {
    const { body } = await postJSON("/api/messages", messages);
    status.textContent = `${body.count} mensagem(ns) enfileirada(s)`;
  } catch (error) {
    status.textContent = `erro: ${error.message}`;
  }
});

async function followJob(url, output) {
  for (;;) {
    const response = await fetch(url);
    const job = await response.json();
    if (job.status === "finished") return job;
    if (job.status === "failed" || job.status === "canceled" || job.status === "stopped") {
      throw new Error(job.error || job.status);
    }
    output.textContent = `job ${job.id.slice(0, 8)}: ${job.status}`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

document.getElementById("fib-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const n = Number(form.get("n"));
  const status = document.getElementById("fib-status");
  const result = document.getElementById("fib-result");
  result.textContent = "";
  try {
    const { status: code, body } = await postJSON("/api/jobs/fib", { n, algorithm: form.get("algorithm") });
    const job = code === 200 ? body : await followJob(body.status_url, status);
    status.textContent = code === 200 ? "do cache (Redis)" : `job ${job.id.slice(0, 8)}: finished`;
    result.textContent = `F(${n}) = ${job.result}` + (job.truncated ? ` (${job.digits} dígitos)` : "");
  } catch (error) {
    status.textContent = `erro: ${error.message}`;
  }
});

refresh();
