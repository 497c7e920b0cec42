// A tiny element builder: h("button", {type: "button", onclick}, "Save").

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(key, "");
    } else {
      element.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let toastTimer = 0;

export function toast(message, kind = "info") {
  const box = document.querySelector(".toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("shown"), 4000);
}

export function formatBytes(bytes) {
  if (typeof bytes !== "number" || !isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleString();
}

export function section(title, ...children) {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...children);
}

// Read-only for a principal that may not change what `node` holds: every form control
// inside is disabled (those marked data-keep stay: filters, players) and a note says why.
export function lockControls(node, why) {
  for (const control of node.querySelectorAll("input, select, button, textarea")) {
    if (control.closest("[data-keep]")) continue;
    control.disabled = true;
  }
  if (why) node.prepend(h("p", { class: "read-only-note" }, why));
  return node;
}
