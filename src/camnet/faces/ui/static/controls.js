// Controls generated from a device's state schema (GET /ui/api/devices/{name}/schema):
// a writable number with a range is a slider with that range, a writable bool a toggle,
// an enum a picker, a writable string a text field; everything readable is shown and
// kept current by the caller through update(name, value).
import { h } from "./dom.js";

function stepOf(variable) {
  if (variable.type === "int") return 1;
  const [low, high] = variable.range;
  const span = high - low;
  return span <= 2 ? 0.01 : span <= 200 ? 0.1 : 1;
}

function show(value) {
  if (value === undefined) return "–";
  if (value === null) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function inputId(prefix, name) {
  return `${prefix}-${name}`.replace(/[^A-Za-z0-9_-]/g, "_");
}

// write(name, value) applies a change; it returns a promise that rejects with a message.
export function buildControls(variables, write, prefix = "v") {
  const rows = new Map();
  const list = h("div", { class: "controls" });
  for (const v of variables) {
    const readable = v.access.includes("r");
    const writable = v.access.includes("w");
    const id = inputId(prefix, v.name);
    const unit = v.unit ? ` (${v.unit})` : "";
    const label = h("label", { for: id, title: v.description }, v.name + unit);
    let control = null;
    let set = () => {};
    const submit = async (value) => {
      try {
        await write(v.name, value);
        row.classList.remove("failed");
      } catch (e) {
        row.classList.add("failed");
        row.querySelector(".problem").textContent = e.message || String(e);
      }
    };
    if (writable && v.type === "bool" && !readable) {
      control = h("button", { id, type: "button", onclick: () => submit(true) }, "Trigger");
    } else if (writable && v.type === "bool") {
      control = h("input", { id, type: "checkbox", role: "switch", onchange: (e) => submit(e.target.checked) });
      set = (value) => {
        control.checked = Boolean(value);
      };
    } else if (writable && (v.type === "int" || v.type === "float") && v.range && !v.relative &&
      v.range[0] !== null && v.range[1] !== null) {
      const out = h("output", { for: id, class: "value" }, show(v.default));
      control = h(
        "span",
        { class: "slider" },
        h("input", {
          id,
          type: "range",
          min: v.range[0],
          max: v.range[1],
          step: stepOf(v),
          value: v.default ?? v.range[0],
          "aria-describedby": `${id}-desc`,
          oninput: (e) => {
            out.textContent = e.target.value;
          },
          onchange: (e) => submit(v.type === "int" ? parseInt(e.target.value, 10) : parseFloat(e.target.value)),
        }),
        out,
      );
      set = (value) => {
        const input = control.querySelector("input");
        if (!input.matches(":active")) input.value = value;
        out.textContent = show(value);
      };
    } else if (writable && v.type === "int" && v.relative) {
      const out = h("output", { class: "value", id: `${id}-value` }, "–");
      control = h(
        "span",
        { class: "stepper" },
        h("button", { id, type: "button", "aria-label": `${v.name} down`, onclick: () => submit(-1) }, "−"),
        out,
        h("button", { type: "button", "aria-label": `${v.name} up`, onclick: () => submit(1) }, "+"),
      );
      set = (value) => {
        out.textContent = show(value);
      };
    } else if (writable && v.type === "enum") {
      control = h(
        "select",
        { id, onchange: (e) => submit(e.target.value) },
        v.options.map((option) => h("option", { value: String(option) }, String(option))),
      );
      set = (value) => {
        control.value = String(value);
      };
    } else if (writable && (v.type === "string" || (v.type === "int" && !v.range))) {
      const input = h("input", { id, type: v.type === "int" ? "number" : "text", maxlength: 255 });
      control = h(
        "form",
        {
          class: "inline",
          onsubmit: (e) => {
            e.preventDefault();
            submit(v.type === "int" ? parseInt(input.value, 10) : input.value);
          },
        },
        input,
        h("button", { type: "submit" }, "Set"),
      );
      set = (value) => {
        if (document.activeElement !== input) input.value = value ?? "";
      };
    } else if (readable) {
      control = h("output", { id, class: "value" }, show(v.default));
      set = (value) => {
        control.textContent = show(value);
      };
    } else {
      continue; // a write-only structured value (a command object): not a control
    }
    const row = h(
      "div",
      { class: "control", dataset: { name: v.name, type: v.type } },
      label,
      control,
      h("small", { id: `${id}-desc`, class: "description" }, v.description),
      h("small", { class: "problem", role: "alert" }),
    );
    rows.set(v.name, set);
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
