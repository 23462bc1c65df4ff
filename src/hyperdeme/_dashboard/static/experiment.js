// The experiment page: summary, plots and a sortable, paged trials table, kept up to
// date by the server's events (no reload): each event carries the summary, shown at
// once; plots and table are fetched again at most every few seconds.
"use strict";

const NAME = decodeURIComponent(location.pathname.split("/").pop());
const API = "/api/experiments/" + encodeURIComponent(NAME);
const PAGE = 50;
const table = { sort: "fom", order: "asc", offset: 0, flags: [] };
let lastDraw = 0, pending = null;

function showSummary(s) {
  document.getElementById("name").textContent = s.name;
  document.title = "hyperdeme: " + s.name;
  const state = document.getElementById("state");
  // while the server reads the journal, its state is not known yet (trials so far)
  state.textContent = s.reading ? "reading…" : s.state;
  state.className = s.reading ? "reading" : "state-" + s.state;
  document.getElementById("done").textContent = s.done;
  document.getElementById("running").textContent = s.running;
  document.getElementById("failed").textContent = s.failed;
  document.getElementById("best").textContent = bestText(s);
  document.getElementById("last").textContent = ago(s.last_activity);
  document.getElementById("direction").textContent = s.direction === "maximize" ? "FoM: higher is better" : "FoM: lower is better";
  // a server that is still reading a large journal: what was read so far, more to come
  const reading = document.getElementById("reading");
  reading.hidden = !s.reading;
  reading.textContent = s.reading ? `reading journal: ${s.done} trials so far (the page fills in as it goes)` : "";
  const error = document.getElementById("error");
  error.hidden = !s.error;
  error.textContent = s.error || "";
}

async function loadAll() {
  lastDraw = Date.now();
  const data = await getJSON(API);
  showSummary(data.summary);
  document.getElementById("command").textContent = data.command;
  const note = document.getElementById("sampled");
  note.hidden = data.sampled >= data.summary.done;
  note.textContent = `The plots show ${data.sampled} of ${data.summary.done} trials (the best half and an even spread); best so far counts every trial; the table has them all.`;
  table.flags = data.space.map((p) => p.flag);
  drawPlots(data);
  await loadTable();
}

function header() {
  const row = document.querySelector("#trials thead tr");
  const columns = [["id", "trial"], ["status", "status"], ["fom", "FoM"], ["duration", "seconds"], ["ended", "ended"], ...table.flags.map((f) => [f, f]), ["error", "error"]];
  row.replaceChildren(...columns.map(([key, label]) => {
    const th = el("th", label + (key === table.sort ? (table.order === "asc" ? " ▲" : " ▼") : ""));
    if (key) {
      th.dataset.sort = key;
      th.addEventListener("click", () => {
        table.order = table.sort === key && table.order === "asc" ? "desc" : "asc";
        table.sort = key;
        table.offset = 0;
        loadTable();
      });
    }
    return th;
  }));
}

async function loadTable() {
  const query = new URLSearchParams({ offset: table.offset, limit: PAGE, sort: table.sort, order: table.order });
  const page = await getJSON(API + "/trials?" + query);
  header();
  const rows = page.trials.map((t) => {
    const row = el("tr", null, t.status);
    row.dataset.trial = t.id;
    const cells = [t.id, t.status, fmt(t.fom), fmt(t.duration), t.ended ? new Date(t.ended * 1000).toLocaleTimeString() : "", ...table.flags.map((f) => fmt(t.params[f])), t.error];
    for (const c of cells) row.appendChild(el("td", c));
    row.addEventListener("click", () => showTrial(t.id));
    return row;
  });
  document.querySelector("#trials tbody").replaceChildren(...rows);
  const last = Math.min(page.total, table.offset + PAGE);
  document.getElementById("page").textContent = page.total ? `${table.offset + 1}–${last} of ${page.total}` : "no trials yet";
  document.getElementById("prev").disabled = table.offset === 0;
  document.getElementById("next").disabled = last >= page.total;
}

async function showTrial(id) {
  const t = await getJSON(API + "/trials/" + id);
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-id").textContent = t.id;
  document.getElementById("detail-status").textContent = t.status;
  document.getElementById("detail-fom").textContent = fmt(t.fom);
  document.getElementById("detail-command").textContent = t.command || "";
  document.getElementById("detail-params").textContent = Object.entries(t.params || {}).map(([k, v]) => `${k}=${v}`).join(" ");
  document.getElementById("detail-error").textContent = t.error || "";
  document.getElementById("detail-stdout").textContent = t.stdout;
  document.getElementById("detail-stderr").textContent = t.stderr;
  document.getElementById("detail").scrollIntoView();
}

function changed() {
  // at most one full redraw every 3 s, however fast trials finish
  if (pending) return;
  const wait = Math.max(0, 3000 - (Date.now() - lastDraw));
  pending = setTimeout(() => { pending = null; loadAll().catch(console.error); }, wait);
}

document.getElementById("prev").addEventListener("click", () => { table.offset = Math.max(0, table.offset - PAGE); loadTable(); });
document.getElementById("next").addEventListener("click", () => { table.offset += PAGE; loadTable(); });

loadAll().catch((error) => { document.getElementById("live").textContent = "cannot load: " + error.message; });
const events = new EventSource(API + "/events");
events.onopen = () => { document.getElementById("live").textContent = "live"; };
events.onerror = () => { document.getElementById("live").textContent = "reconnecting…"; };
events.onmessage = (message) => {
  const summary = JSON.parse(message.data);
  showSummary(summary);
  document.getElementById("live").textContent = "live · updated " + new Date().toLocaleTimeString();
  changed();
};
