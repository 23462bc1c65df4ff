// The front page: the experiments under the run path, polled every few seconds.
"use strict";

async function refresh() {
  let data;
  try {
    data = await getJSON("/api/experiments");
  } catch (error) {
    document.getElementById("updated").textContent = "cannot reach the server: " + error.message;
    return;
  }
  document.getElementById("run-path").textContent = data.run_path;
  const body = document.querySelector("#experiments tbody");
  const rows = data.experiments.map((s) => {
    const row = el("tr");
    const link = el("a", s.name);
    link.href = "/experiments/" + encodeURIComponent(s.name);
    const name = el("td");
    name.appendChild(link);
    row.appendChild(name);
    row.appendChild(s.reading ? el("td", `reading journal: ${s.done} trials so far`, "reading") : el("td", s.state, "state-" + s.state));
    for (const v of [s.done, s.running, s.failed, bestText(s), ago(s.last_activity)]) row.appendChild(el("td", v));
    return row;
  });
  body.replaceChildren(...rows);
  document.getElementById("empty").hidden = rows.length > 0;
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

refresh();
setInterval(refresh, 3000);
