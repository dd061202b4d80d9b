// fila's console: polls /api/painel every second and draws what it gets; acts through the JSON API.
// Every value reaches the page through textContent, never innerHTML.
"use strict";

const REFRESH_MS = 1000;
const HISTORY_MS = 15000;
const QUEUE = document.getElementById("cards").dataset.queue;
// A per-queue API URL for the queue the page shows (`?queue=`).
const forQueue = (url) => `${url}${url.includes("?") ? "&" : "?"}queue=${encodeURIComponent(QUEUE)}`;
const MESSAGE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const JOB_ID = /^([0-9a-f]{32}|[0-9a-f-]{36})$/;
const WORDS = JSON.parse(document.getElementById("words").textContent);
const LOCALE = WORDS.locale;
const selected = new Set();
let deadSignature = "";
let paused = null;

// The page's words in its language (web/translations.yaml), `{name}` filled in from `values`.
function t(key, values = {}) {
  return (WORDS[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function number(value) {
  return value.toLocaleString(LOCALE);
}

function statusWord(status) {
  return WORDS[`status_${status}`] ?? status;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(id, items, columns) {
  const rows = items.map((item) => {
    const tr = document.createElement("tr");
    columns.forEach(([get, className]) => cell(tr, get(item), className ? className(item) : undefined));
    return tr;
  });
  document.getElementById(id).replaceChildren(...rows);
}

function short(value, size = 60) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text && text.length > size ? text.slice(0, size) + "…" : text;
}

function seconds(value) {
  if (value < 60) return `${value.toFixed(1)} s`;
  if (value < 3600) return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  return `${Math.floor(value / 3600)} h ${Math.round((value % 3600) / 60)} min`;
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function api(method, url, payload) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(WORDS[`err_${body.error}`] ?? (body.message || body.error || `HTTP ${response.status}`));
  return { status: response.status, body };
}

function drawBars(canvasId, series, colors) {
  const canvas = document.getElementById(canvasId);
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const length = series[0].length;
  const totals = Array.from({ length }, (_, i) => series.reduce((sum, values) => sum + values[i], 0));
  const peak = Math.max(1, ...totals);
  const barWidth = width / length;
  for (let i = 0; i < length; i += 1) {
    let base = height;
    series.forEach((values, s) => {
      const barHeight = (values[i] / peak) * (height - 18);
      ctx.fillStyle = colors[s];
      ctx.fillRect(i * barWidth, base - barHeight, Math.max(1, barWidth - (barWidth > 3 ? 1 : 0)), barHeight);
      base -= barHeight;
    });
  }
  ctx.fillStyle = "#6b7280";
  ctx.font = "12px system-ui, sans-serif";
  return peak;
}

function render(data) {
  const q = data.messages;
  for (const key of ["length", "in_flight", "done", "dead"]) {
    document.getElementById(key).textContent = number(q[key]);
  }
  document.getElementById("rate").textContent = number(q.rate_1m);
  document.getElementById("oldest").textContent = q.length ? seconds(q.oldest_age_s) : "–";
  document.getElementById("rate-limit").textContent = q.rate_limit ? t("rate_limit", { n: number(q.rate_limit) }) : "";
  document.getElementById("drain").textContent =
    q.drain_seconds === null ? t("never") : (q.drain_seconds ? seconds(q.drain_seconds) : "–");
  document.getElementById("wanted").textContent = q.workers_wanted ? t("workers_wanted", { n: q.workers_wanted }) : "";
  renderState(q.paused);
  document.getElementById("priorities").textContent = q.high || q.low ? t("priorities", { high: number(q.high), low: number(q.low) }) : "";
  for (const each of data.queues) {
    const tab = document.querySelector(`#queue-tabs a[data-queue="${CSS.escape(each.name)}"] [data-length]`);
    if (tab) tab.textContent = `${number(each.length)}${each.paused ? " ⏸" : ""}`;
  }
  const memory = data.redis;
  const mb = (bytes) => (bytes / 1048576).toLocaleString(LOCALE, { maximumFractionDigits: 1 });
  document.getElementById("memory").textContent = memory.max_bytes
    ? t("memory_of", { used: mb(memory.used_bytes), max: mb(memory.max_bytes) }) : t("memory_mb", { used: mb(memory.used_bytes) });
  document.getElementById("memory").className = `figure ${memory.full ? "full" : ""}`;
  document.getElementById("redis-full").hidden = !memory.full;
  const peak = drawBars("chart", [data.throughput], ["#c2410c"]);
  document.getElementById("chart").getContext("2d").fillText(t("peak", { peak }), 4, 12);
  fillTable("workers", data.workers, [
    [(w) => w.name],
    [(w) => (w.state === "stuck" ? t("stuck_for", { age: seconds(w.current_age_s ?? 0) }) : t(w.state === "alive" ? "alive" : "lost")),
      (w) => `state-${w.state}`],
    [(w) => `${w.host ?? "?"} · ${w.pid}`], [(w) => w.delivery], [(w) => w.current ?? ""],
    [(w) => w.in_flight, () => "num"], [(w) => w.processed, () => "num"], [(w) => w.failed, () => "num"],
    [(w) => seconds(w.heartbeat_age_s), () => "num"],
  ]);
  renderDead(data.dead, q.dead);
  renderGroups(data.dead_groups);
  renderScheduled(data.scheduled, q);
  renderSchedules(data.schedules);
  fillTable("results", data.results, [
    [(r) => r.id], [(r) => r.worker], [(r) => (r.ms === null ? "" : r.ms.toFixed(2)), () => "num"],
    [(r) => r.summary ?? short(r.result ?? r.error)],
  ]);
  const rq = data.rq;
  document.getElementById("rq-name").textContent = rq.name;
  document.getElementById("rq-summary").textContent =
    t("rq_summary", rq);
  fillTable("jobs", data.jobs, [
    [(j) => j.id.slice(0, 8)], [(j) => j.description], [(j) => statusWord(j.status), (j) => `status-${j.status}`],
    [(j) => short(j.result, 50)],
  ]);
  document.getElementById("updated").textContent = t("updated_at", { time: new Date().toLocaleTimeString(LOCALE) });
}

function renderState(isPaused) {
  if (isPaused === paused) return;
  paused = isPaused;
  const state = document.getElementById("queue-state");
  state.textContent = paused ? t("paused") : t("active");
  state.className = `figure ${paused ? "paused" : ""}`;
  const button = document.getElementById("pause-button");
  button.textContent = paused ? t("resume") : t("pause");
  button.disabled = false;
}

function actionButton(action, label, className = "secondary") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `small ${className}`;
  button.dataset.action = action;
  button.textContent = label;
  return button;
}

// A row's button of `action` in the table `listId` runs `act(key)` (the row's data-`field`): disabled meanwhile,
// its row gone and `done(key)` said in `statusId` after, the error said when it fails.
function onRowAction(listId, action, field, statusId, act, done) {
  document.getElementById(listId).addEventListener("click", async (event) => {
    const button = event.target.closest(`button[data-action=${action}]`);
    if (!button) return;
    const key = button.closest("tr").dataset[field];
    button.disabled = true;
    const status = document.getElementById(statusId);
    try {
      await act(key);
      status.textContent = done(key);
      button.closest("tr").remove();
    } catch (error) {
      status.textContent = t("error", { error: error.message });
      button.disabled = false;
    }
  });
}

// The dead letters grouped by error (GET /api/dead/groups): a row each, its requeue and delete buttons.
// Rebuilt only when the groups or their counts change, so that a button is never replaced under the pointer.
let groupsSignature = "";
function renderGroups(groups) {
  document.getElementById("groups-count").textContent = groups.total ? `(${groups.total})` : "";
  const signature = groups.groups.map((g) => `${g.group}:${g.count}`).join(",");
  if (signature === groupsSignature) return;
  groupsSignature = signature;
  const rows = groups.groups.map((g) => {
    const tr = document.createElement("tr");
    tr.dataset.group = g.group;
    cell(tr, g.signature, "status-dead");
    cell(tr, number(g.count), "num");
    cell(tr, seconds(Math.max(0, Date.now() / 1000 - g.last_at)), "num");
    const actions = cell(tr, "");
    actions.appendChild(actionButton("requeue-group", t("requeue"), "secondary"));
    actions.appendChild(actionButton("delete-group", t("delete"), "danger"));
    return tr;
  });
  document.getElementById("dead-groups").replaceChildren(...rows);
}

function renderDead(letters, total) {
  document.getElementById("dead-count").textContent =
    total > letters.length ? t("dead_some", { shown: letters.length, total }) : `(${total})`;
  const signature = letters.map((d) => `${d.id}:${d.attempts}`).join(",");
  if (signature === deadSignature) {
    for (const row of document.getElementById("dead-letters").rows) {
      row.cells[4].textContent = seconds(Number(row.dataset.died) ? Date.now() / 1000 - Number(row.dataset.died) : 0);
    }
    return;
  }
  deadSignature = signature;
  const present = new Set(letters.map((d) => d.id));
  for (const id of [...selected]) if (!present.has(id)) selected.delete(id);
  const rows = letters.map((d) => {
    const tr = document.createElement("tr");
    tr.dataset.id = d.id;
    tr.dataset.died = d.died_at;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = selected.has(d.id);
    box.setAttribute("aria-label", t("select_one", { id: d.id }));
    cell(tr, "").appendChild(box);
    cell(tr, d.id);
    cell(tr, d.error, "status-dead");
    cell(tr, d.attempts, "num");
    cell(tr, seconds(d.age_s), "num");
    cell(tr, short(d.preview, 80));
    const actions = cell(tr, "");
    for (const [action, label, className] of [["requeue", t("requeue"), "secondary"], ["delete", t("delete"), "danger"]]) {
      actions.appendChild(actionButton(action, label, className));
    }
    return tr;
  });
  document.getElementById("dead-letters").replaceChildren(...rows);
}

function renderScheduled(items, q) {
  document.getElementById("scheduled").textContent = number(q.scheduled);
  document.getElementById("next-due").textContent =
    q.next_due_at ? t("next_due", { when: seconds(Math.max(0, q.next_due_at - Date.now() / 1000)) }) : "";
  document.getElementById("scheduled-count").textContent =
    q.scheduled > items.length ? t("dead_some", { shown: items.length, total: number(q.scheduled) }) : `(${q.scheduled})`;
  const rows = items.map((m) => {
    const tr = document.createElement("tr");
    tr.dataset.id = m.id;
    cell(tr, m.id);
    cell(tr, when(m.due_at));
    cell(tr, m.attempts, "num");
    cell(tr, short(m.preview, 80));
    cell(tr, "").appendChild(actionButton("cancel", t("cancel_one")));
    return tr;
  });
  document.getElementById("scheduled-list").replaceChildren(...rows);
}

function renderSchedules(items) {
  document.getElementById("schedules-count").textContent = `(${items.length})`;
  const rows = items.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.name = s.name;
    cell(tr, s.name);
    cell(tr, s.cron ? `cron ${s.cron} (UTC)` : t("every", { when: seconds(s.every_ms / 1000) }));
    cell(tr, when(s.next_at));
    cell(tr, s.fired, "num");
    cell(tr, short(JSON.stringify(s.body), 80));
    cell(tr, "").appendChild(actionButton("remove", t("remove_schedule")));
    return tr;
  });
  document.getElementById("schedules-list").replaceChildren(...rows);
}

onRowAction("schedules-list", "remove", "name", "schedules-status",
  (name) => api("DELETE", forQueue(`/api/schedules/${encodeURIComponent(name)}`)), (name) => t("schedule_removed", { name }));
onRowAction("scheduled-list", "cancel", "id", "scheduled-status",
  (id) => api("DELETE", forQueue(`/api/scheduled/${id}`)), (id) => t("cancelled_one", { id }));
let groupDone = 0;
onRowAction("dead-groups", "requeue-group", "group", "groups-status", async (group) => {
  groupDone = (await api("POST", forQueue(`/api/dead/groups/${group}/requeue`), {})).body.requeued;
}, () => t("group_requeued", { n: number(groupDone) }));
onRowAction("dead-groups", "delete-group", "group", "groups-status", async (group) => {
  groupDone = (await api("POST", forQueue(`/api/dead/groups/${group}/delete`), { confirm: true })).body.deleted;
}, () => t("group_deleted", { n: number(groupDone) }));

async function refresh() {
  try {
    const response = await fetch(forQueue("/api/painel"), { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    document.getElementById("updated").textContent = t("offline", { error: error.message });
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

// The last `fila prove` experiments (GET /api/experiments): a row an experiment and mode, what it means in words.
async function refreshProofs() {
  try {
    const { body } = await api("GET", "/api/experiments");
    document.getElementById("prove-how").textContent =
      t(body.allowed ? "prove_how" : "prove_refused", { command: body.command });
    fillTable("prove-list", body.results, [[(p) => `${p.experiment} · ${p.delivery}`],
      [(p) => number(p.accepted), () => "num"],
      [(p) => number(p.lost), (p) => (p.lost ? "num status-dead" : "num")], [(p) => number(p.duplicated), () => "num"],
      [(p) => when(p.at)], [(p) => t(p.experiment === "kill-worker" ? `prove_says_${p.delivery}` : `prove_says_${p.experiment}`,
        { lost: p.lost, duplicated: p.duplicated, refused: p.refused, fsync: p.appendfsync, wait: p.wait_replicas })]]);
  } catch (error) {
    document.getElementById("prove-how").textContent = t("error", { error: error.message });
  }
}

async function refreshHistory() {
  const minutes = document.getElementById("history-range").value;
  try {
    const { body } = await api("GET", forQueue(`/api/history?minutes=${minutes}`));
    const h = body.history;
    drawBars("history", [h.map((m) => m.done), h.map((m) => m.failed), h.map((m) => m.dead)],
      ["#15803d", "#b45309", "#b91c1c"]);
    const total = h.reduce((sum, m) => sum + m.done, 0);
    document.getElementById("history").dataset.done = String(total);
    document.getElementById("history").getContext("2d")
      .fillText(t("history_totals", { done: number(total), dead: number(h.reduce((s, m) => s + m.dead, 0)) }), 4, 12);
  } catch (error) {
    document.getElementById("updated").textContent = t("history_error", { error: error.message });
  }
}

document.getElementById("history-range").addEventListener("change", refreshHistory);

document.getElementById("pause-button").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    const { body } = await api("POST", `/api/queues/${encodeURIComponent(QUEUE)}/${paused ? "resume" : "pause"}`);
    renderState(body.paused);
  } catch (error) {
    document.getElementById("updated").textContent = t("error", { error: error.message });
  } finally {
    event.target.disabled = false;
  }
});

function deadStatus(text) {
  document.getElementById("dead-status").textContent = text;
}

async function everyStep(url, payload, verb) {
  let done = 0;
  let until;
  for (;;) {
    const { body } = await api("POST", url, until === undefined ? payload : { ...payload, until });
    done += body[verb];
    until = body.until;
    deadStatus(t(verb === "requeued" ? "requeued_n" : "deleted_n", { n: number(done) }) +
      (body.remaining ? t("remaining", { n: number(body.remaining) }) : ""));
    if (!body.remaining) return done;
  }
}

document.getElementById("dead-letters").addEventListener("change", (event) => {
  const row = event.target.closest("tr");
  if (event.target.type === "checkbox" && row) {
    if (event.target.checked) selected.add(row.dataset.id); else selected.delete(row.dataset.id);
  }
});

document.getElementById("dead-all").addEventListener("change", (event) => {
  for (const row of document.getElementById("dead-letters").rows) {
    row.cells[0].firstChild.checked = event.target.checked;
    if (event.target.checked) selected.add(row.dataset.id); else selected.delete(row.dataset.id);
  }
});

document.getElementById("dead-letters").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = button.closest("tr").dataset.id;
  button.disabled = true;
  try {
    if (button.dataset.action === "requeue") {
      await api("POST", forQueue("/api/dead/requeue"), { ids: [id] });
      deadStatus(t("requeued_one", { id }));
    } else {
      await api("DELETE", forQueue(`/api/dead/${id}`));
      deadStatus(t("deleted_one", { id }));
    }
    selected.delete(id);
    button.closest("tr").remove();
  } catch (error) {
    deadStatus(t("error", { error: error.message }));
    button.disabled = false;
  }
});

document.getElementById("requeue-selected").addEventListener("click", async () => {
  if (!selected.size) { deadStatus(t("none_selected")); return; }
  try {
    const { body } = await api("POST", forQueue("/api/dead/requeue"), { ids: [...selected] });
    deadStatus(t("requeued_n", { n: number(body.requeued) }));
    selected.clear();
  } catch (error) {
    deadStatus(t("error", { error: error.message }));
  }
});

document.getElementById("requeue-all").addEventListener("click", async () => {
  try {
    await everyStep(forQueue("/api/dead/requeue"), { all: true }, "requeued");
  } catch (error) {
    deadStatus(t("error", { error: error.message }));
  }
});

document.getElementById("purge-all").addEventListener("click", () => {
  document.getElementById("purge-confirm").hidden = false;
});
document.getElementById("purge-no").addEventListener("click", () => {
  document.getElementById("purge-confirm").hidden = true;
});
document.getElementById("purge-yes").addEventListener("click", async () => {
  document.getElementById("purge-confirm").hidden = true;
  try {
    await everyStep(forQueue("/api/dead/purge"), { confirm: true }, "purged");
  } catch (error) {
    deadStatus(t("error", { error: error.message }));
  }
});

function story(title, fields) {
  document.getElementById("story-title").textContent = title;
  const list = document.getElementById("story");
  list.replaceChildren();
  for (const [name, value] of fields) {
    if (value === null || value === undefined) continue;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 1);
    list.append(dt, dd);
  }
  document.getElementById("search-result").hidden = false;
}

// A message's steps (GET /api/messages/<id>/timeline): when, what, who, and the Redis commands each used.
const STEP_FACTS = ["by", "route", "worker", "via", "batch", "attempt", "ms", "error", "from", "due_at", "trace"];

async function showTimeline(id) {
  const box = document.getElementById("timeline-box");
  const list = document.getElementById("timeline");
  list.replaceChildren();
  box.hidden = true;
  const { body: told } = await api("GET", `/api/messages/${id}/timeline`);
  document.getElementById("timeline-title").textContent = told.count
    ? t("timeline_title", { n: told.count, hours: Math.round(told.retention_s / 360) / 10 })
    : t("timeline_none");
  for (const found of told.steps) {
    const item = document.createElement("li");
    const head = document.createElement("div");
    const time = document.createElement("time");
    time.textContent = when(found.at);
    const kind = document.createElement("strong");
    kind.textContent = t(`step_${found.step}`);
    head.append(time, " ", kind);
    const facts = document.createElement("div");
    facts.className = "facts";
    facts.textContent = STEP_FACTS.filter((name) => found[name] !== undefined)
      .map((name) => `${name}: ${name === "due_at" ? when(found[name]) : found[name]}`).join(" · ");
    const redis = document.createElement("details");
    const script = document.createElement("summary");
    script.textContent = found.redis.script;
    const commands = document.createElement("pre");
    commands.textContent = found.redis.commands.join("\n");
    redis.append(script, commands);
    item.append(head, facts, redis);
    list.append(item);
  }
  box.hidden = false;
}

function when(timestamp) {
  return timestamp ? new Date(timestamp * 1000).toLocaleString(LOCALE) : null;
}

document.getElementById("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = new FormData(event.target).get("id").trim();
  try {
    if (MESSAGE_ID.test(id)) {
      const { body: m } = await api("GET", `/api/messages/${id}`);
      const fields = [[t("f_status"), statusWord(m.status)], [t("f_attempts"), m.attempts], ["worker", m.worker],
        [t("f_enqueued"), when(m.enqueued_at)], [t("f_started"), when(m.started_at)], [t("f_finished"), when(m.finished_at)],
        [t("f_handler_time"), m.ms === null ? null : `${m.ms} ms`],
        [t("f_latency"), m.latency_ms === null ? null : `${m.latency_ms} ms`], [t("f_error"), m.error],
        [t("f_summary"), m.summary], [t("f_result"), m.result], [t("f_due"), when(m.due_at)],
        [t("f_next_attempt"), when(m.next_attempt_at)]];
      if (m.status === "dead") {
        const { body: d } = await api("GET", forQueue(`/api/dead/${id}`));
        fields.push([t("f_died"), when(d.died_at)], [t("f_body"), d.body]);
      }
      story(t("message_n", { id }), fields);
      await showTimeline(id);
    } else if (JOB_ID.test(id)) {
      const { body: j } = await api("GET", `/api/jobs/${id}`);
      story(t("job_n", { id }), [[t("f_status"), statusWord(j.status)], [t("f_description"), j.description],
        [t("f_position"), j.position], ["worker", j.worker], [t("f_job_enqueued"), j.enqueued_at],
        [t("f_started"), j.started_at], [t("f_finished"), j.ended_at], [t("f_error"), j.error],
        [t("f_outcome"), j.truncated ? `${j.result} (${t("digits", { n: j.digits })})` : j.result]]);
    } else {
      story(t("unknown_id"), [[t("f_what"), t("unknown_id_help")]]);
    }
  } catch (error) {
    story(t("nothing_for", { id }), [[t("f_answer"), error.message]]);
  }
});

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
    const { body } = await api("POST", `/api/queues/${encodeURIComponent(QUEUE)}/messages`, messages);
    status.textContent = t("enqueued_n", { n: number(body.count) });
    setTimeout(refreshHistory, 2000);
  } catch (error) {
    status.textContent = t("error", { error: error.message });
  }
});

async function followJob(url, output) {
  for (;;) {
    const { body: job } = await api("GET", url);
    if (job.status === "finished") return job;
    if (job.status === "failed" || job.status === "canceled" || job.status === "stopped") {
      throw new Error(job.error || job.status);
    }
    output.textContent = t("job_state", { id: job.id.slice(0, 8), status: statusWord(job.status) });
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
    const { status: code, body } = await api("POST", "/api/jobs/fib", { n, algorithm: form.get("algorithm") });
    const job = code === 200 ? body : await followJob(body.status_url, status);
    status.textContent = code === 200 ? t("from_cache") : t("job_state", { id: job.id.slice(0, 8), status: statusWord("finished") });
    result.textContent = `F(${n}) = ${job.result}` + (job.truncated ? ` (${t("digits", { n: job.digits })})` : "");
  } catch (error) {
    status.textContent = t("error", { error: error.message });
  }
});

refresh();
refreshHistory();
refreshProofs();
setInterval(refreshHistory, HISTORY_MS);
setInterval(refreshProofs, HISTORY_MS);
