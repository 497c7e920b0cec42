// A control unit's page, laid out for a camera operator: the live view large with a
// pan/tilt pad and a zoom slider on it, the everyday actions under it, the readings
// beside it, then the controls in groups (the grouping is data: faces/ui/groups.py,
// sent with the schema), then every variable in one filterable table.
import { get, post } from "./api.js";
import { buildControls, show } from "./controls.js";
import { h, section, toast } from "./dom.js";
import { liveStage } from "./live.js";
import { ptzControls } from "./ptz.js";
import { readingsPanel } from "./readings.js";

function allVariablesTable(variables, groups) {
  const titles = new Map(groups.map((g) => [g.key, g.title]));
  const cells = new Map();
  const rows = variables.map((v) => {
    const value = h("div", { class: "clip" }, show(v.default, v.unit));
    cells.set(v.name, { value, unit: v.unit });
    return h(
      "tr",
      { dataset: { variable: v.name } },
      h("th", { scope: "row" }, h("span", {}, v.label), h("small", { class: "vendor" }, v.name)),
      h("td", {}, titles.get(v.group) || v.group || ""),
      h("td", {}, v.access),
      h("td", { class: "value json" }, value),
    );
  });
  const count = h("span", { class: "count", "aria-live": "polite" }, `${rows.length} variables`);
  // Closed until asked for (or filtered): the operator's page stays short.
  const table = h(
    "details",
    { class: "all-variables" },
    h("summary", {}, "Show every variable with its value"),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "variables" },
        h("thead", {}, h("tr", {}, ["Variable", "Group", "Access", "Value"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
      ),
    ),
  );
  const filter = h("input", {
    id: "filter",
    type: "search",
    placeholder: "name, label, group or value",
    oninput: (e) => {
      const needle = e.target.value.trim().toLowerCase();
      let shown = 0;
      for (const row of rows) {
        row.hidden = Boolean(needle) && !row.textContent.toLowerCase().includes(needle);
        if (!row.hidden) shown += 1;
      }
      count.textContent = `${shown} of ${rows.length} variables`;
      if (needle) table.open = true;
    },
  });
  const node = h(
    "div",
    { "data-keep": "" },
    h("p", { class: "filter" }, h("label", { for: "filter" }, "Filter "), filter, " ", count),
    table,
  );
  return {
    node,
    update(values) {
      for (const [name, value] of Object.entries(values)) {
        const cell = cells.get(name);
        if (cell) cell.value.textContent = show(value, cell.unit);
      }
    },
  };
}

export async function controlUnitView(name, variables, groups, session) {
  const may = (session && session.may) || {};
  const canWrite = (variable) => may.stateWrite === "*" || (Array.isArray(may.stateWrite) && may.stateWrite.includes(variable));
  const state = {};
  const write = async (variable, value) => {
    const answer = await post("/api", { [variable]: value });
    apply(answer || {});
  };
  const head = () => (state.cameraSwitch ? 1 : 0);
  const ptz = ptzControls(write, { head, canPan: () => canWrite(`pan${head()}`), canZoom: () => canWrite(`zoom${head()}`) });
  const live = liveStage({ device: name, head, alt: `Live view of ${name}` }, ...ptz.nodes);

  // Everyday actions under the picture.
  const lightButton = h("button", { type: "button", id: "quick-light", "aria-pressed": "false", onclick: () => write(`light${head()}`, !state[`light${head()}`]).catch((e) => toast(e.message, "error")) }, "Light");
  const recordButton = h("button", { type: "button", id: "quick-record", onclick: () => write("record", state.record === "stop" ? "start" : "stop").catch((e) => toast(e.message, "error")) }, "Start recording");
  const pictureButton = h("button", { type: "button", id: "quick-picture", onclick: () => write("takePicture", true).then(() => toast("Picture taken")).catch((e) => toast(e.message, "error")) }, "Take picture");
  const tagTitle = h("input", { id: "tag-title", type: "text", maxlength: 255, placeholder: "what happened", "aria-describedby": "tag-hint" });
  const tagForm = h(
    "form",
    {
      class: "inline tag-now",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const tag = await post("/data/tags", { title: tagTitle.value.trim() });
          tagTitle.value = "";
          toast(tag.inRecording ? "Tagged: the backup recording holds this moment" : `Tagged, but ${tag.reason}`, tag.inRecording ? "info" : "error");
        } catch (err) {
          toast(err.message, "error");
        }
      },
    },
    h("label", { for: "tag-title" }, "Tag"),
    tagTitle,
    h("button", { type: "submit", id: "quick-tag" }, "Tag now"),
  );
  const hint = h("p", { id: "tag-hint", class: "hint" }, "Tagging starts Visual Backup recording if it is off; the recording begins a moment before the tag, so the tagged moment is kept and never deleted by backup retention.");
  const still = h("a", { href: "/camera.jpeg", download: "camera.jpeg", class: "button secondary" }, "Download a still");
  const quick = h("div", { class: "quick" }, lightButton, recordButton, pictureButton, still);
  const allowQuick = () => {
    lightButton.disabled = !canWrite(`light${head()}`);
    recordButton.disabled = !canWrite("record");
    pictureButton.disabled = !canWrite("takePicture");
    for (const c of tagForm.querySelectorAll("input, button")) c.disabled = !may.tag;
    ptz.allow();
  };

  // Readings, groups of controls, all variables.
  const readingVars = variables.filter((v) => v.reading);
  const history = await get("/ui/api/history").catch(() => null);
  const readings = readingsPanel(readingVars, history ? { series: history.series.filter((s) => s.device === name) } : null);
  const inCards = (v) => v.access.includes("w") && !v.relative && !(v.type === "json" && !v.access.includes("r")) && !/^alias/.test(v.description);
  const cards = [];
  const parts = [readings, ptz];
  for (const group of groups) {
    const members = variables.filter((v) => v.group === group.key && inCards(v));
    if (!members.length) continue;
    const controls = buildControls(members, write, "set", canWrite);
    parts.push(controls);
    cards.push(h("section", { class: "card group", "aria-label": group.title, dataset: { group: group.key } }, h("h2", {}, group.title), controls.node));
  }
  const table = allVariablesTable(variables, groups);
  parts.push(table);

  const status = h("span", { class: "badge off", "aria-live": "polite" }, "connecting");
  function apply(values) {
    Object.assign(state, values);
    for (const part of parts) part.update(values);
    lightButton.setAttribute("aria-pressed", String(Boolean(state[`light${head()}`])));
    lightButton.textContent = state[`light${head()}`] ? "Light on" : "Light off";
    recordButton.textContent = state.record && state.record !== "stop" ? "Stop recording" : "Start recording";
    recordButton.classList.toggle("recording", Boolean(state.record && state.record !== "stop"));
    if ("cameraSwitch" in values) allowQuick();
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api`);
  socket.addEventListener("open", () => { status.textContent = "live"; status.className = "badge on"; });
  socket.addEventListener("close", () => { status.textContent = "disconnected"; status.className = "badge off"; });
  socket.addEventListener("message", (event) => {
    const values = JSON.parse(event.data);
    if (values.error) {
      toast(values.error.message || "error", "error");
      return;
    }
    apply(values);
  });
  allowQuick();
  const readOnly = may.stateWrite === "*" ? null : h("p", { class: "read-only-note" }, `Read-only: ${session.user} (${session.role}) may watch but not change this camera.`);
  const node = h(
    "div",
    { class: "device-page" },
    h("h1", {}, name, " ", status),
    readOnly,
    h(
      "div",
      { class: "operator" },
      h("section", { class: "card stage-card", "aria-label": "Live view" }, live.stage, h("div", { class: "stage-bar" }, quick, live.picker), tagForm, hint),
      section("Readings", readings.node),
    ),
    h("div", { class: "groups" }, cards),
    section("All variables", table.node),
  );
  return {
    node,
    cleanup() {
      socket.close();
      live.stop();
    },
  };
}

