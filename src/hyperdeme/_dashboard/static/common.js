// Helpers shared by the dashboard's pages. Every value from the server is put in the
// page with textContent or as an SVG attribute, never parsed as HTML.
"use strict";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fmt(value) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

function ago(seconds) {
  if (!seconds) return "";
  const delta = Math.max(0, Date.now() / 1000 - seconds);
  if (delta < 90) return Math.round(delta) + " s ago";
  if (delta < 5400) return Math.round(delta / 60) + " min ago";
  if (delta < 172800) return Math.round(delta / 3600) + " h ago";
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(url + ": " + response.status);
  return response.json();
}

function bestText(summary) {
  if (summary.error) return "journal unreadable";
  if (Object.keys(summary.objectives || {}).length > 1) return Object.keys(summary.objectives).length + " objectives";
  if (summary.best_fom === null) return "none yet";
  return fmt(summary.best_fom) + " (trial " + summary.best_trial + ")";
}
