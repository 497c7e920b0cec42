// Pan/tilt pad and zoom slider drawn on the live image. In c2, pan{h} and zoom{h} are
// relative when written (the answer is the absolute value): dragging the pad's knob by
// a fraction of the pad's width moves pan by that fraction of its 0..100 range (sent
// every 100 ms while dragging), the arrow buttons move it by 5, and the zoom slider shows
// the absolute zoom and writes the difference to where it was let go.
import { h } from "./dom.js";

const SEND_MS = 100;
const ZOOM_MAX = 31424;

export function ptzControls(write, { head, canPan, canZoom }) {
  let pending = { x: 0, y: 0 };
  let timer = 0;
  let zoom = 0;
  const name = (base) => `${base}${head()}`;
  const flush = async () => {
    timer = 0;
    const delta = pending;
    pending = { x: 0, y: 0 };
    if (Math.abs(delta.x) < 0.01 && Math.abs(delta.y) < 0.01) return;
    await write(name("pan"), { x: +delta.x.toFixed(2), y: +delta.y.toFixed(2) });
  };
  const move = (dx, dy) => {
    pending = { x: pending.x + dx, y: pending.y + dy };
    if (!timer) timer = setTimeout(() => flush().catch(() => {}), SEND_MS);
  };
  const knob = h("span", { class: "ptz-knob", "aria-hidden": "true" });
  const pad = h("div", { class: "ptz-pad", role: "application", "aria-label": "Pan and tilt: drag", title: "Drag to pan and tilt" }, knob);
  let last = null;
  let origin = null;
  pad.addEventListener("pointerdown", (e) => {
    if (!canPan()) return;
    pad.setPointerCapture(e.pointerId);
    last = origin = { x: e.clientX, y: e.clientY };
    e.preventDefault();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const size = pad.clientWidth || 1;
    move(((e.clientX - last.x) / size) * 100, ((e.clientY - last.y) / size) * 100);
    last = { x: e.clientX, y: e.clientY };
    const r = size / 2;
    const kx = Math.max(-r, Math.min(r, e.clientX - origin.x));
    const ky = Math.max(-r, Math.min(r, e.clientY - origin.y));
    knob.style.transform = `translate(${kx}px, ${ky}px)`;
  });
  const end = () => {
    last = origin = null;
    knob.style.transform = "";
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  const arrow = (label, text, dx, dy) =>
    h("button", { type: "button", class: `ptz-step ptz-${label}`, "aria-label": `Pan ${label}`, onclick: () => move(dx, dy) }, text);
  const arrows = [arrow("up", "▲", 0, -5), arrow("left", "◀", -5, 0), arrow("right", "▶", 5, 0), arrow("down", "▼", 0, 5)];
  const slider = h("input", {
    id: "zoom", type: "range", min: 0, max: ZOOM_MAX, step: 1, value: 0, "aria-label": "Zoom",
    onchange: (e) => {
      const target = parseInt(e.target.value, 10);
      write(name("zoom"), target - zoom).catch(() => {});
    },
  });
  const zoomBox = h("label", { class: "zoom-box" }, h("span", {}, "Zoom"), slider);
  const ptz = h("div", { class: "ptz" }, h("div", { class: "ptz-cross" }, pad, ...arrows));
  return {
    nodes: [ptz, zoomBox],
    update(values) {
      const z = values[name("zoom")];
      if (typeof z === "number") {
        zoom = z;
        if (!slider.matches(":active")) slider.value = z;
      }
      const pan = values[name("pan")];
      if (pan && typeof pan === "object") pad.title = `Pan x ${pan.x.toFixed(1)}, y ${pan.y.toFixed(1)}: drag to move`;
    },
    allow() {
      const panning = canPan();
      pad.classList.toggle("disabled", !panning);
      pad.setAttribute("aria-disabled", String(!panning));
      for (const button of arrows) button.disabled = !panning;
      slider.disabled = !canZoom();
    },
  };
}
