// Readings (read-only values with a unit: temperatures, sealing air, rpm) as numbers
// with their unit and a sparkline of their recent values: seeded from the node's history
// (GET /ui/api/history) and extended by every update the page receives.
import { h } from "./dom.js";
import { svg } from "./plots.js";

const KEEP = 120;

export function number(value) {
  if (typeof value === "number") return value;
  const match = typeof value === "string" ? value.match(/^\s*(-?\d+(?:\.\d+)?)/) : null;
  return match ? parseFloat(match[1]) : null;
}

function spark(points) {
  if (points.length < 2) return svg("svg", { viewBox: "0 0 100 24", class: "spark", "aria-hidden": "true" });
  const values = points.map((p) => p[1]);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) { low -= 1; high += 1; }
  const t0 = points[0][0];
  const span = Math.max(points[points.length - 1][0] - t0, 1e-9);
  const d = points.map((p, i) => `${i ? "L" : "M"}${(((p[0] - t0) / span) * 100).toFixed(1)},${(22 - ((p[1] - low) / (high - low)) * 20).toFixed(1)}`).join(" ");
  return svg("svg", { viewBox: "0 0 100 24", class: "spark", preserveAspectRatio: "none", "aria-hidden": "true" }, svg("path", { d }));
}

export function readingsPanel(variables, history) {
  const series = new Map();
  for (const s of history?.series || []) series.set(s.variable, s.points.slice(-KEEP));
  const cells = new Map();
  const list = h("dl", { class: "readings" });
  for (const v of variables) {
    const value = h("span", { class: "reading-value" }, "–");
    const line = h("span", { class: "reading-spark" });
    list.append(
      h("div", { class: "reading", dataset: { reading: v.name } },
        h("dt", { title: v.description }, v.label, h("small", { class: "vendor" }, v.name)),
        h("dd", {}, value, h("span", { class: "unit" }, v.unit), line)),
    );
    cells.set(v.name, { value, line });
    if (!series.has(v.name)) series.set(v.name, []);
  }
  return {
    node: list,
    update(values) {
      const now = Date.now() / 1000;
      for (const [name, raw] of Object.entries(values)) {
        const cell = cells.get(name);
        const n = number(raw);
        if (!cell || n === null) continue;
        const points = series.get(name);
        points.push([now, n]);
        if (points.length > KEEP) points.shift();
        cell.value.textContent = Number.isInteger(n) ? String(n) : n.toFixed(1);
        cell.line.replaceChildren(spark(points));
      }
    },
  };
}
