// The experiment page's plots, drawn as SVG from the JSON (no library, no network):
// a scale is linear or logarithmic, an axis has a few ticks, a plot is an <svg>.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const W = 560, H = 300, M = { left: 62, right: 14, top: 12, bottom: 36 };

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function num(v) { return typeof v === "number" ? v : NaN; }

// A log scale when every value is positive and they span more than two decades.
function wantsLog(values) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length || Math.min(...finite) <= 0) return false;
  return Math.max(...finite) / Math.min(...finite) > 100;
}

function scale(lo, hi, a, b, log) {
  if (log) { lo = Math.log10(lo); hi = Math.log10(hi); }
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const f = (v) => a + ((log ? Math.log10(v) : v) - lo) / (hi - lo) * (b - a);
  f.log = log; f.lo = lo; f.hi = hi;
  return f;
}

function ticks(s, count) {
  if (s.log) {
    const out = [];
    for (let e = Math.ceil(s.lo - 1e-9); e <= s.hi + 1e-9; e++) out.push(10 ** e);
    return out.length >= 2 ? out : [10 ** s.lo, 10 ** s.hi];
  }
  // round steps: 1, 2 or 5 times a power of ten; a smaller one while fewer than two
  // ticks fall inside (0.03..9.8 in steps of 5 has only 5)
  const raw = (s.hi - s.lo) / (count || 4);
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10].map((m) => m * power);
  let i = steps.findIndex((m) => m >= raw * 0.7);
  if (i < 0) i = steps.length - 1;
  for (; ; i--) {
    const step = steps[i], out = [];
    for (let t = Math.ceil(s.lo / step) * step; t <= s.hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
    if (out.length >= 2 || i === 0) return out;
  }
}

function tick(value) {
  return Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(0) : String(Number(value.toPrecision(3)));
}

// At most `chars` characters (24 by default), an ellipsis for the rest.
function short(text, chars) {
  text = String(text);
  chars = Math.max(4, chars || 24);
  return text.length > chars ? text.slice(0, chars - 1) + "…" : text;
}

function extent(values, log) {
  let v = values.filter(Number.isFinite);
  if (log) v = v.filter((x) => x > 0);
  if (!v.length) return [0, 1];
  let lo = Math.min(...v), hi = Math.max(...v);
  if (!log) { const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1; lo -= pad; hi += pad; }
  return [lo, hi];
}

function frame(xs, ys, xlabel, ylabel, size) {
  const w = (size && size.w) || W, h = (size && size.h) || H;
  const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
  svg.appendChild(svgEl("rect", { x: M.left, y: M.top, width: w - M.left - M.right, height: h - M.top - M.bottom, fill: "#fcfcfc", stroke: "#ccc" }));
  for (const t of ticks(ys, 4)) {
    const y = ys(t);
    svg.appendChild(svgEl("line", { x1: M.left - 4, x2: w - M.right, y1: y, y2: y, stroke: "#eee" }));
    svg.appendChild(svgEl("text", { x: M.left - 6, y: y + 4, "text-anchor": "end" }, tick(t)));
  }
  if (xs) for (const t of ticks(xs, 4)) {
    const x = xs(t);
    svg.appendChild(svgEl("text", { x, y: h - M.bottom + 14, "text-anchor": "middle" }, tick(t)));
  }
  svg.appendChild(svgEl("text", { x: (M.left + w - M.right) / 2, y: h - 4, "text-anchor": "middle" }, xlabel));
  svg.appendChild(svgEl("text", { x: 12, y: (M.top + h - M.bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(M.top + h - M.bottom) / 2})` }, ylabel + (ys.log ? " (log)" : "")));
  return svg;
}

function put(id, svg) { document.getElementById(id).replaceChildren(svg); }

// Best so far: a step line over wall-clock minutes; pauses with nothing running shaded.
function plotBest(data) {
  const steps = data.best_so_far;
  const t0 = Math.min(...data.points.map((p) => p.started).filter((v) => v > 0), ...steps.map((s) => s[0]));
  const end = Math.max(...data.points.map((p) => p.ended), ...steps.map((s) => s[0]), t0 + 1);
  const values = steps.map((s) => num(s[1]));
  const log = wantsLog(values);
  const [lo, hi] = extent(values, log);
  const unit = end - t0 > 300 ? 60 : 1;
  const xs = scale(0, (end - t0) / unit, M.left, W - M.right, false);
  const ys = scale(lo, hi, H - M.bottom, M.top, log);
  const svg = frame(xs, ys, (unit === 60 ? "minutes" : "seconds") + " since the first trial", "best FoM");
  for (const [from, to] of data.gaps) {
    const x1 = xs((from - t0) / unit), x2 = xs((to - t0) / unit);
    svg.appendChild(svgEl("rect", { x: x1, y: M.top, width: Math.max(2, x2 - x1), height: H - M.top - M.bottom, fill: "#f3e3c6", class: "gap" }));
    svg.appendChild(svgEl("text", { x: x1 + 3, y: M.top + 12 }, "stopped, resumed"));
  }
  if (steps.length) {
    let d = "";
    steps.forEach((s, i) => {
      const x = xs((s[0] - t0) / unit), y = ys(num(s[1]));
      d += i ? ` H${x} V${y}` : `M${x} ${y}`;
    });
    d += ` H${xs((end - t0) / unit)}`;
    svg.appendChild(svgEl("path", { d, fill: "none", stroke: "#1f5fbf", "stroke-width": 2, class: "best-line" }));
  }
  document.getElementById("best-hint").textContent = log ? "(log scale: the FoM spans decades)" : "";
  put("plot-best", svg);
}

const COLOURS = { ok: "#1f5fbf", stopped: "#e08a00", failed: "#c62828", timeout: "#c62828", no_metric: "#c62828", cancelled: "#888", interrupted: "#888" };

// Every trial's FoM by trial number; stopped trials at their FoM, the rest on a top band.
function plotFoms(data) {
  const pts = data.points;
  const values = pts.map((p) => num(p.fom));
  const log = wantsLog(values);
  const [lo, hi] = extent(values, log);
  const ids = pts.map((p) => p.id);
  const xs = scale(Math.min(0, ...ids), Math.max(1, ...ids), M.left, W - M.right, false);
  const ys = scale(lo, hi, H - M.bottom, M.top + 14, log);
  const svg = frame(xs, ys, "trial", "FoM");
  svg.appendChild(svgEl("text", { x: M.left + 4, y: M.top + 10 }, "no FoM (failed, cancelled)"));
  for (const p of pts) {
    const v = num(p.fom);
    const ok = Number.isFinite(v) && (!log || v > 0);
    svg.appendChild(svgEl("circle", { cx: xs(p.id), cy: ok ? ys(v) : M.top + 5, r: 3, fill: COLOURS[p.status] || "#888", "fill-opacity": 0.7, class: "trial-" + p.status }));
  }
  put("plot-fom", svg);
}

// The axis of one parameter over its full range: numbers (log when the space says so) or
// choices, each in the middle of its own band (so the first and last are not on the
// axis's ends), labelled with as many characters as the band has room for (`room`: the
// characters a label may have, 24 when the labels do not share the axis's length).
function paramScale(param, a, b, room) {
  if (param.values) {
    const n = param.values.length;
    const at = (i) => a + (i + 0.5) / n * (b - a);
    const s = (v) => at(param.values.findIndex((x) => String(x) === String(v)));
    const chars = room === undefined ? 24 : Math.floor(Math.abs(b - a) / n / 6.5);
    s.labels = param.values.map((v, i) => [at(i), short(v, chars)]);
    return s;
  }
  const s = scale(param.low, param.high, a, b, !!param.log);
  s.labels = ticks(s, 3).map((t) => [s(t), tick(t)]);
  return s;
}

function ranked(data) {
  const good = data.points.filter((p) => Number.isFinite(num(p.fom)));
  const sign = data.summary.direction === "maximize" ? -1 : 1;
  good.sort((a, b) => sign * (a.fom - b.fom));
  return good;
}

function colour(rank, n) {
  const t = n > 1 ? rank / (n - 1) : 0;
  return `hsl(${220 - 180 * t}, 70%, ${25 + 50 * t}%)`;
}

function plotParallel(data) {
  const space = data.space;
  const good = ranked(data);
  const w = Math.max(1100, 160 * (space.length + 1)), h = 340, right = 90;
  const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
  const xs = (i) => M.left + i * (w - M.left - right) / Math.max(1, space.length);
  const foms = good.map((p) => p.fom);
  const fomLog = wantsLog(foms);
  const [lo, hi] = extent(foms, fomLog);
  const scales = space.map((p) => paramScale(p, h - M.bottom, M.top + 8));
  const fomScale = scale(lo, hi, h - M.bottom, M.top + 8, fomLog);
  for (let r = good.length - 1; r >= 0; r--) {
    const p = good[r];
    let d = "";
    space.forEach((param, i) => {
      const v = p.params[param.flag];
      if (v === undefined) return;
      d += (d ? " L" : "M") + `${xs(i)} ${scales[i](v)}`;
    });
    d += ` L${xs(space.length)} ${fomScale(p.fom)}`;
    svg.appendChild(svgEl("path", { d, fill: "none", stroke: colour(r, good.length), "stroke-opacity": 0.5 }));
  }
  const axes = [...space.map((p, i) => [p.flag + (p.log ? " (log)" : ""), scales[i]]), ["FoM" + (fomLog ? " (log)" : ""), Object.assign(fomScale, { labels: ticks(fomScale, 3).map((t) => [fomScale(t), tick(t)]) })]];
  axes.forEach(([label, s], i) => {
    const x = xs(i);
    const axis = svgEl("g", { class: "axis", "data-axis": label });
    axis.appendChild(svgEl("line", { x1: x, x2: x, y1: M.top + 8, y2: h - M.bottom, stroke: "#555" }));
    axis.appendChild(svgEl("text", { x, y: h - M.bottom + 16, "text-anchor": "middle", class: "axis-label" }, label));
    for (const [y, text] of s.labels) axis.appendChild(svgEl("text", { x: x + 4, y: y + 4, class: "tick" }, text));
    svg.appendChild(axis);
  });
  put("plot-parallel", svg);
}

function plotSlices(data) {
  const good = ranked(data);
  const foms = good.map((p) => p.fom);
  const log = wantsLog(foms);
  const [lo, hi] = extent(foms, log);
  const size = { w: 300, h: 220 };
  const figures = data.space.map((param) => {
    const ys = scale(lo, hi, size.h - M.bottom, M.top, log);
    const xs = paramScale(param, M.left, size.w - M.right, true);
    const svg = frame(null, ys, param.flag + (param.log ? " (log)" : ""), "FoM", size);
    for (const [x, text] of xs.labels) svg.appendChild(svgEl("text", { x, y: size.h - M.bottom + 14, "text-anchor": "middle", class: "tick" }, text));
    good.forEach((p, r) => {
      const v = p.params[param.flag];
      if (v === undefined) return;
      svg.appendChild(svgEl("circle", { cx: xs(v), cy: ys(p.fom), r: 2.5, fill: colour(r, good.length), "fill-opacity": 0.7 }));
    });
    return svg;
  });
  document.getElementById("plot-slices").replaceChildren(...figures);
}

function plotCurves(data) {
  const curves = Object.entries(data.curves);
  document.getElementById("fig-curves").hidden = !curves.length;
  if (!curves.length) return;
  const steps = curves.flatMap(([, c]) => c.map((s) => s[0]));
  const values = curves.flatMap(([, c]) => c.map((s) => num(s[1])));
  const log = wantsLog(values);
  const [lo, hi] = extent(values, log);
  const xs = scale(Math.min(...steps), Math.max(...steps), M.left, W - M.right, false);
  const ys = scale(lo, hi, H - M.bottom, M.top, log);
  const svg = frame(xs, ys, "step", "intermediate FoM");
  const status = Object.fromEntries(data.points.map((p) => [p.id, p.status]));
  for (const [id, c] of curves) {
    const d = c.filter((s) => Number.isFinite(num(s[1]))).map((s, i) => (i ? "L" : "M") + `${xs(s[0])} ${ys(s[1])}`).join(" ");
    svg.appendChild(svgEl("path", { d, fill: "none", stroke: status[id] === "stopped" ? "#e08a00" : "#1f5fbf", "stroke-opacity": 0.6 }));
  }
  put("plot-curves", svg);
}

function plotFront(data) {
  const names = Object.keys(data.summary.objectives || {});
  document.getElementById("fig-front").hidden = names.length < 2 || !data.front;
  if (names.length < 2 || !data.front) return;
  const [a, b] = names;
  const pts = data.points.filter((p) => Number.isFinite(num(p.objectives[a])) && Number.isFinite(num(p.objectives[b])));
  const [xlo, xhi] = extent(pts.map((p) => p.objectives[a]), false);
  const [ylo, yhi] = extent(pts.map((p) => p.objectives[b]), false);
  const xs = scale(xlo, xhi, M.left, W - M.right, false);
  const ys = scale(ylo, yhi, H - M.bottom, M.top, false);
  const svg = frame(xs, ys, a + " (" + data.summary.objectives[a] + ")", b + " (" + data.summary.objectives[b] + ")");
  const front = new Set(data.front);
  for (const p of pts) svg.appendChild(svgEl("circle", { cx: xs(p.objectives[a]), cy: ys(p.objectives[b]), r: front.has(p.id) ? 4 : 2.5, fill: front.has(p.id) ? "#1a237e" : "#9fa8da" }));
  const line = pts.filter((p) => front.has(p.id)).sort((p, q) => p.objectives[a] - q.objectives[a]);
  svg.appendChild(svgEl("path", { d: line.map((p, i) => (i ? "L" : "M") + `${xs(p.objectives[a])} ${ys(p.objectives[b])}`).join(" "), fill: "none", stroke: "#1a237e" }));
  put("plot-front", svg);
}

function drawPlots(data) {
  for (const f of [plotBest, plotFoms, plotParallel, plotSlices, plotCurves, plotFront]) {
    try { f(data); } catch (error) { console.error(f.name, error); }
  }
}
