// The device list (fleet API: every device of the network, with its online state) and
// one device: live view(s) beside the controls generated from its schema.
import { get, post } from "./api.js";
import { buildControls } from "./controls.js";
import { controlUnitView } from "./device.js";
import { h, lockControls, section } from "./dom.js";
import { liveView, videoModeSelect } from "./stream_live.js";

export async function devicesView() {
  const [fleet, local] = await Promise.all([
    get("/api/v1/devices?per_page=100&sort=name"),
    get("/ui/api/devices"),
  ]);
  const here = new Map(local.map((d) => [d.name, d]));
  const rows = fleet.data.map((device) => {
    const online = Boolean(device.is_online);
    const local = here.get(device.name);
    const name = local
      ? h("a", { href: `#/device/${encodeURIComponent(device.name)}` }, device.name)
      : h("span", {}, device.name);
    return h(
      "tr",
      { dataset: { device: device.name } },
      h("td", {}, name),
      h("td", {}, local ? (local.kind === "stereo" ? "stereo camera" : "control unit") : "elsewhere"),
      h("td", {}, h("span", { class: `badge ${online ? "on" : "off"}` }, online ? "online" : "offline")),
      h("td", {}, device.group || "–"),
      h("td", {}, device.refreshed || "–"),
    );
  });
  const table = h(
    "table",
    { class: "devices" },
    h("caption", {}, `${fleet.meta.total} devices`),
    h(
      "thead",
      {},
      h("tr", {}, ["Device", "Kind", "State", "Group", "Last update"].map((t) => h("th", { scope: "col" }, t))),
    ),
    h("tbody", {}, rows),
  );
  return { node: section("Devices", h("div", { class: "scroll" }, table)) };
}

export async function deviceView(name, session) {
  const devices = await get("/ui/api/devices");
  const device = devices.find((d) => d.name === name);
  if (!device) throw new Error(`${name} is not served by this node`);
  const schema = await get(`/ui/api/devices/${encodeURIComponent(name)}/schema`);
  return device.kind === "stereo"
    ? stereoView(name, schema.variables, session)
    : controlUnitView(name, schema.variables, schema.groups || [], session);
}

function stereoView(name, variables, session) {
  const allowed = Boolean(session && session.may && session.may.streams);
  const mxid = variables.length ? name.slice(name.indexOf("Stereo") + "Stereo".length) : name;
  const base = `/cameras/${encodeURIComponent(mxid)}/streams`;
  const byName = new Map(variables.map((v) => [v.name, v]));
  const views = h("div", { class: "streams" });
  const controlsBox = h("div", {});
  let timer = 0;
  let current = null;
  const images = [];

  async function loadStreams() {
    const streams = await get(`${base}/`);
    for (const figure of images.splice(0)) figure.stop();
    views.replaceChildren();
    for (const stream of streams) {
      if (stream.active) {
        const figure = liveView(`${base}/${stream.name}/video`, `${stream.name} of ${mxid}`, name);
        images.push(figure);
        views.append(figure);
      } else {
        views.append(
          h(
            "figure",
            { class: "live inactive" },
            h("button", {
              type: "button",
              disabled: !allowed,
              onclick: async () => {
                await post(`${base}/${stream.name}/`);
                await loadStreams();
              },
            }, `Start ${stream.name}`),
            h("figcaption", {}, `${stream.name} (inactive)`),
          ),
        );
      }
    }
    return streams;
  }

  async function showControls(stream) {
    clearInterval(timer);
    const values = await get(`${base}/${stream}/control`);
    const fields = [];
    for (const key of Object.keys(values)) {
      if (key === "focus") {
        for (const sub of Object.keys(values.focus || {})) {
          const v = byName.get(`${stream}_focus_${sub}`);
          if (v) fields.push({ ...v, name: `focus.${sub}` });
        }
      } else {
        const v = byName.get(`${stream}_${key}`);
        if (v) fields.push({ ...v, name: key });
      }
    }
    const write = async (field, value) => {
      const body = field.startsWith("focus.") ? { focus: { [field.slice(6)]: value } } : { [field]: value };
      const answer = await post(`${base}/${stream}/control`, body);
      current.update(flatten(answer));
    };
    current = buildControls(fields, write, `${stream}`, () => allowed);
    current.update(flatten(values));
    controlsBox.replaceChildren(current.node);
    if (!allowed) lockControls(controlsBox, "Read-only: you may watch but not change this camera.");
    timer = setInterval(async () => {
      try {
        current.update(flatten(await get(`${base}/${stream}/control`)));
      } catch {
        clearInterval(timer);
      }
    }, 2000);
  }

  const picker = h("select", { id: "sensor", onchange: (e) => showControls(e.target.value) });
  const node = h(
    "div",
    {},
    h("h1", {}, name),
    h(
      "div",
      { class: "device-panels" },
      section("Live views (colour, mono, depth)", videoModeSelect(name, () => loadStreams()), views),
      section("Sensor controls", h("p", {}, h("label", { for: "sensor" }, "Sensor "), picker), controlsBox),
    ),
  );
  return loadStreams().then(async (streams) => {
    const sensors = streams.map((s) => s.name).filter((s) => byName.has(`${s}_exposure_time`));
    picker.replaceChildren(...sensors.map((s) => h("option", { value: s }, s)));
    if (sensors.length) await showControls(sensors[0]);
    return {
      node,
      cleanup() {
        clearInterval(timer);
        for (const figure of images) figure.stop();
      },
    };
  });
}

function flatten(values) {
  const out = {};
  for (const [key, value] of Object.entries(values || {})) {
    if (key === "focus" && value && typeof value === "object") {
      for (const [sub, v] of Object.entries(value)) out[`focus.${sub}`] = v;
    } else {
      out[key] = value;
    }
  }
  return out;
}
