// Controls generated from a device's state schema (GET /ui/api/devices/{name}/schema).
// Each variable's widget follows from its declaration, never from its name:
//   bool rw → switch; bool write-only → "Trigger" button; enum → picker;
//   number with a range of at most 1000 steps → slider; larger ranges (ports, hours)
//   and unbounded ints → number field; string → text field; a JSON value written as a
//   string (the storages: a uuid) → text field showing its uuid; other JSON → its value.
// A principal that may not write a variable gets the same widget, disabled.
import { h } from "./dom.js";

function stepOf(variable) {
  if (variable.type === "int") return 1;
  const [low, high] = variable.range;
  const span = high - low;
  return span <= 2 ? 0.01 : span <= 200 ? 0.1 : 1;
}

// A value as a person reads it: numbers with their unit, JSON compact (never one
// character per line: the CSS wraps it at commas and spaces like text).
export function show(value, unit) {
  if (value === undefined) return "–";
  if (value === null) return "null";
  if (typeof value === "object") return JSON.stringify(value, null, 1).replace(/\n\s*/g, " ");
  if (typeof value === "number" && unit) return `${value} ${unit}`;
  return String(value);
}

export function inputId(prefix, name) {
  return `${prefix}-${name}`.replace(/[^A-Za-z0-9_-]/g, "_");
}

function sliderRange(v) {
  return (v.type === "int" || v.type === "float") && v.range && !v.relative &&
    v.range[0] !== null && v.range[1] !== null &&
    (v.type === "float" || v.range[1] - v.range[0] <= 1000);
}

// One widget: {control, set(value)}; submit(value) writes.
function widget(v, id, submit) {
  const readable = v.access.includes("r");
  if (v.type === "bool" && !readable) {
    return { control: h("button", { id, type: "button", onclick: () => submit(true) }, "Trigger"), set() {} };
  }
  if (v.type === "bool") {
    const control = h("input", { id, type: "checkbox", role: "switch", onchange: (e) => submit(e.target.checked) });
    return { control, set: (value) => { control.checked = Boolean(value); } };
  }
  if (sliderRange(v)) {
    const out = h("output", { for: id, class: "value" }, show(v.default, v.unit));
    const input = h("input", {
      id, type: "range", min: v.range[0], max: v.range[1], step: stepOf(v), value: v.default ?? v.range[0],
      oninput: (e) => { out.textContent = show(Number(e.target.value), v.unit); },
      onchange: (e) => submit(v.type === "int" ? parseInt(e.target.value, 10) : parseFloat(e.target.value)),
    });
    return {
      control: h("span", { class: "slider" }, input, out),
      set: (value) => {
        if (!input.matches(":active")) input.value = value;
        out.textContent = show(value, v.unit);
      },
    };
  }
  if (v.type === "enum") {
    const control = h("select", { id, onchange: (e) => submit(v.options.find((o) => String(o) === e.target.value)) },
      v.options.map((option) => h("option", { value: String(option) }, String(option))));
    return { control, set: (value) => { control.value = String(value); } };
  }
  const numeric = v.type === "int" || v.type === "float";
  if (numeric || v.type === "string" || v.writeType === "string") {
    const attrs = numeric
      ? { type: "number", min: v.range?.[0] ?? undefined, max: v.range?.[1] ?? undefined, step: v.type === "int" ? 1 : "any", inputmode: "numeric" }
      : { type: "text", maxlength: 255 };
    const input = h("input", { id, ...attrs });
    const control = h("form", {
      class: "inline",
      onsubmit: (e) => {
        e.preventDefault();
        submit(v.type === "int" ? parseInt(input.value, 10) : v.type === "float" ? parseFloat(input.value) : input.value);
      },
    }, input, h("button", { type: "submit" }, "Set"));
    const set = (value) => {
      if (document.activeElement === input) return;
      input.value = value && typeof value === "object" ? value.uuid ?? "" : value ?? "";
    };
    return { control, set };
  }
  const control = h("output", { id, class: "value json" }, show(v.default));
  return { control, set: (value) => { control.textContent = show(value); } };
}

// write(name, value) applies a change (a promise that rejects with a message);
// canWrite(name) says whether the principal may (else the widget is disabled).
export function buildControls(variables, write, prefix = "v", canWrite = () => true) {
  const rows = new Map();
  const list = h("div", { class: "controls" });
  for (const v of variables) {
    const id = inputId(prefix, v.name);
    const writable = v.access.includes("w");
    let row = null;
    const submit = async (value) => {
      try {
        await write(v.name, value);
        row.classList.remove("failed");
        row.querySelector(".problem").textContent = "";
      } catch (e) {
        row.classList.add("failed");
        row.querySelector(".problem").textContent = e.message || String(e);
      }
    };
    let made;
    if (writable) {
      made = widget(v, id, submit);
    } else {
      const out = h("output", { id, class: `value${v.type === "json" ? " json" : ""}` }, show(v.default, v.unit));
      made = { control: out, set: (value) => { out.textContent = show(value, v.unit); } };
    }
    const allowed = writable && canWrite(v.name);
    if (writable && !allowed) {
      for (const c of [made.control, ...made.control.querySelectorAll("input, select, button")]) c.disabled = true;
    }
    row = h(
      "div",
      { class: `control${writable && !allowed ? " read-only" : ""}`, dataset: { name: v.name, type: v.type } },
      h(
        "div",
        { class: "control-label" },
        h("label", { for: id, title: v.description }, (v.label || v.name) + (v.unit && !writable ? "" : v.unit ? ` (${v.unit})` : "")),
        h("small", { class: "vendor" }, v.name),
      ),
      h("div", { class: "control-input" }, made.control),
      h("small", { class: "problem", role: "alert" }),
    );
    rows.set(v.name, made.set);
    list.append(row);
  }
  return {
    node: list,
    update(values) {
      for (const [name, value] of Object.entries(values)) {
        const set = rows.get(name);
        if (set) set(value);
      }
    },
  };
}
