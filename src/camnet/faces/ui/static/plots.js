// Plots drawn as inline SVG: temperatures and pressures over the last hour, and the
// use of the recording storage over time (GET /ui/api/history, kept by the node).
import { get } from "./api.js";
import { formatBytes, h, section } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  for (const child of children.flat()) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const WIDTH = 600;
const HEIGHT = 200;
const PAD = { left: 56, right: 10, top: 10, bottom: 24 };

function ticks(low, high, count) {
  const step = (high - low) / count;
  return Array.from({ length: count + 1 }, (_, i) => low + i * step);
}

// series: [{label, points: [[t, v], …]}]; the x axis is the last hour ending at `now`.
export function linePlot(series, { now, window, format, title }) {
  const values = series.flatMap((s) => s.points.map((p) => p[1]));
  let low = values.length ? Math.min(...values) : 0;
  let high = values.length ? Math.max(...values) : 1;
  if (high - low < 1e-9) {
    low -= 1;
    high += 1;
  }
  const pad = (high - low) * 0.1;
  low -= pad;
  high += pad;
  const start = now - window;
  const x = (t) => PAD.left + ((t - start) / window) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - ((v - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
  const children = [];
  for (const v of ticks(low, high, 4)) {
    children.push(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: "grid" }));
    children.push(svg("text", { x: PAD.left - 4, y: y(v) + 4, "text-anchor": "end", class: "label" }, format(v)));
  }
  for (const minutes of [60, 45, 30, 15, 0]) {
    const t = now - minutes * 60;
    children.push(svg("text", { x: x(t), y: HEIGHT - 6, "text-anchor": "middle", class: "label" }, minutes ? `−${minutes} min` : "now"));
  }
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    children.push(svg("path", { d, class: `line c${i % 6}` }, svg("title", {}, s.label)));
  });
  const legend = h(
    "ul",
    { class: "legend" },
    series.map((s, i) => {
      const last = s.points.length ? s.points[s.points.length - 1][1] : null;
      return h("li", { class: `c${i % 6}` }, `${s.label}: ${last === null ? "–" : format(last)}`);
    }),
  );
  const plot = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "plot", role: "img", "aria-label": title },
    ...children,
  );
  return h("figure", { class: "plot-figure" }, plot, h("figcaption", {}, legend));
}

function group(history, kind) {
  return history.series
    .filter((s) => s.kind === kind)
    .map((s) => ({ label: `${s.device} ${s.variable}`, points: s.points, unit: s.unit }));
}

export async function plotsView() {
  const body = h("div", {});
  async function draw() {
    const history = await get("/ui/api/history");
    const options = { now: history.now, window: history.window };
    const storage = group(history, "storage");
    body.replaceChildren(
      h("h1", {}, "Plots"),
      h(
        "div",
        { class: "device-panels" },
        section(
          "Temperatures, last hour",
          linePlot(group(history, "temperature"), { ...options, format: (v) => `${v.toFixed(1)} °C`, title: "Temperatures over the last hour" }),
        ),
        section(
          "Pressures, last hour",
          linePlot(group(history, "pressure"), { ...options, format: (v) => `${v.toFixed(0)} mbar`, title: "Pressures over the last hour" }),
        ),
        section(
          "Storage used",
          linePlot(storage.filter((s) => s.unit === "B"), { ...options, format: formatBytes, title: "Storage used over time" }),
        ),
        section(
          "Backup video kept",
          linePlot(storage.filter((s) => s.unit === "s"), { ...options, format: (v) => `${(v / 3600).toFixed(2)} h`, title: "Backup video kept over time" }),
        ),
      ),
      h("p", { class: "note" }, `Kept in memory by the node since it started, one point per ${history.resolution} s.`),
    );
  }
  await draw();
  const timer = setInterval(() => draw().catch(() => clearInterval(timer)), 5000);
  return { node: body, cleanup: () => clearInterval(timer) };
}
