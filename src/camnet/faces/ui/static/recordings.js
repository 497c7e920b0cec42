// The recordings gallery: storage and capacity figures (c2 state), a timeline of
// recordings and tags, playback over HTTP Range, downloads, and tags (create, remove).
import { del, get, post } from "./api.js";
import { formatBytes, formatTime, h, section, toast } from "./dom.js";
import { RecordingPlayer } from "./player.js";
import { svg } from "./plots.js";

function storageFigures(state) {
  const storages = [...(state.diskStorages || []), ...(state.netStorages || [])];
  const rows = storages.map((s) =>
    h(
      "tr",
      {},
      h("td", {}, s.name),
      h("td", {}, s.type || "disk"),
      h("td", {}, s.available ? "available" : "unavailable"),
      h("td", {}, formatBytes(s.used)),
      h("td", {}, formatBytes(s.free)),
      h("td", {}, formatBytes(s.total)),
      h("td", {}, h("meter", { min: 0, max: s.total || 1, value: s.used || 0, "aria-label": `${s.name} used` })),
    ),
  );
  const figures = [
    ["Recording", state.record],
    ["Visual Backup", state.backupActive ? "on" : "off"],
    ["Backup stored", state.backupStoredFileDuration],
    ["Overwritable", state.backupFileCapacity],
    ["Remaining capacity", state.backupRemainingCapacity],
    ["Backup capacity", state.storageBackupCapacity],
  ];
  return h(
    "div",
    {},
    h("dl", { class: "figures" }, figures.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")])),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Storage", "Type", "State", "Used", "Free", "Total", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function timeline(recordings, tags) {
  const times = [
    ...recordings.flatMap((r) => [r.start, r.end ?? r.start]),
    ...tags.map((t) => t.creationTime),
  ].filter((t) => typeof t === "number");
  if (!times.length) return h("p", {}, "Nothing recorded yet.");
  const low = Math.min(...times);
  const high = Math.max(...times, low + 1);
  const x = (t) => 10 + ((t - low) / (high - low)) * 580;
  const children = [
    svg("line", { x1: 10, x2: 590, y1: 30, y2: 30, class: "axis" }),
    ...recordings.map((r) =>
      svg("rect", {
        x: x(r.start),
        y: r.kind === "backup" ? 34 : 18,
        width: Math.max(2, x(r.end ?? r.start) - x(r.start)),
        height: 10,
        class: `span ${r.kind}`,
      }, svg("title", {}, `${r.kind} ${r.id}: ${formatTime(r.start)}`)),
    ),
    ...tags.map((t) =>
      svg("circle", { cx: x(t.creationTime), cy: 10, r: 4, class: "tag-mark" }, svg("title", {}, `${t.title || "tag"} ${formatTime(t.creationTime)}`)),
    ),
    svg("text", { x: 10, y: 58, class: "label" }, formatTime(low)),
    svg("text", { x: 590, y: 58, class: "label", "text-anchor": "end" }, formatTime(high)),
  ];
  return svg("svg", { viewBox: "0 0 600 64", class: "timeline", role: "img", "aria-label": "Timeline of recordings (bars) and tags (dots)" }, ...children);
}

export async function recordingsView(session) {
  const may = (session && session.may) || {};
  const canRecord = may.stateWrite === "*" || (Array.isArray(may.stateWrite) && may.stateWrite.includes("record"));
  const [state, listing, tagListing] = await Promise.all([
    get("/api"),
    get("/data/recordings?perPage=50&sort=-start"),
    get("/data/tags?perPage=100"),
  ]);
  const recordings = listing.recordings;
  const tags = tagListing.tags || [];
  let player = null;
  const canvas = h("canvas", { class: "player", width: 640, height: 360, "aria-label": "Recording playback" });
  const progress = h("input", { type: "range", min: 0, max: 1, step: 0.04, value: 0, id: "seek", "aria-label": "Position" });
  const clock = h("output", { for: "seek", class: "value" }, "0.0 s");
  const playButton = h("button", { type: "button", disabled: true }, "Play");
  const title = h("p", { class: "now-playing" }, "Choose a recording to play.");
  const onProgress = (p) => {
    progress.max = Math.max(p.duration, 0.04);
    progress.value = p.position;
    clock.textContent = `${p.position.toFixed(1)} s / ${p.duration.toFixed(1)} s`;
    playButton.textContent = p.playing ? "Pause" : "Play";
  };
  playButton.addEventListener("click", () => {
    if (!player) return;
    if (player.playing) player.pause();
    else player.play().catch((e) => toast(e.message, "error"));
  });
  progress.addEventListener("change", () => player && player.seek(parseFloat(progress.value)));

  function play(recording) {
    if (player) player.stop();
    player = new RecordingPlayer(`/data/recordings/${recording.id}/file`, canvas, onProgress, recording.duration || null);
    title.textContent = `Recording ${recording.id} (${recording.kind}), ${formatTime(recording.start)}`;
    playButton.disabled = false;
    player.play().catch((e) => toast(e.message, "error"));
  }

  async function tag(recording, input) {
    const titleText = input.value.trim();
    const middle = recording.end ? (recording.start + recording.end) / 2 : recording.start;
    try {
      await post("/data/tags", { creationTime: middle, title: titleText });
      toast(`Tagged recording ${recording.id}`);
      location.hash = "#/recordings";
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (e) {
      toast(e.message, "error");
    }
  }

  const rows = recordings.map((r) => {
    const input = h("input", { type: "text", disabled: !may.tag, placeholder: "tag title", "aria-label": `Tag title for recording ${r.id}`, maxlength: 255 });
    return h(
      "tr",
      { dataset: { recording: r.id } },
      h("td", {}, String(r.id)),
      h("td", {}, r.kind),
      h("td", {}, formatTime(r.start)),
      h("td", {}, r.duration != null ? `${Number(r.duration).toFixed(1)} s` : "–"),
      h("td", {}, formatBytes(r.size)),
      h("td", {}, r.tagged ? "tagged" : r.open ? "recording" : ""),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", onclick: () => play(r), disabled: r.open }, "Play"),
        h("a", { href: `/data/recordings/${r.id}/file`, download: r.file, class: "button" }, "Download"),
        h(
          "form",
          { class: "inline", onsubmit: (e) => { e.preventDefault(); tag(r, input); } },
          input,
          h("button", { type: "submit", disabled: !may.tag }, "Tag"),
        ),
      ),
    );
  });
  const tagRows = tags.map((t) =>
    h(
      "li",
      { dataset: { tag: t.id } },
      `${t.title || "(untitled)"} — ${formatTime(t.creationTime)} `,
      h("button", {
        type: "button",
        disabled: !may.tag,
        "aria-label": `Remove tag ${t.title || t.id}`,
        onclick: async () => {
          try {
            await del(`/data/tags/${t.id}`);
            toast("Tag removed");
            window.dispatchEvent(new HashChangeEvent("hashchange"));
          } catch (e) {
            toast(e.message, "error");
          }
        },
      }, "Remove"),
    ),
  );
  const recordButtons = h(
    "p",
    {},
    h("button", { type: "button", disabled: !canRecord, onclick: () => setRecord("start") }, "Start recording"),
    " ",
    h("button", { type: "button", disabled: !canRecord, onclick: () => setRecord("stop") }, "Stop recording"),
    " ",
    h("button", { type: "button", onclick: () => window.dispatchEvent(new HashChangeEvent("hashchange")) }, "Refresh"),
  );
  async function setRecord(value) {
    try {
      await post("/api", { record: value });
      toast(`Recording ${value === "start" ? "started" : "stopped"}`);
      // The gallery lists a recording once its file is open (or closed): look again soon.
      setTimeout(() => window.dispatchEvent(new HashChangeEvent("hashchange")), 800);
    } catch (e) {
      toast(e.message, "error");
    }
  }
  const node = h(
    "div",
    {},
    h("h1", {}, "Recordings"),
    h(
      "div",
      { class: "device-panels" },
      section("Storage and capacity", storageFigures(state), recordButtons),
      section("Player", title, canvas, h("p", { class: "player-bar" }, playButton, progress, clock)),
    ),
    section("Timeline", timeline(recordings, tags)),
    section(
      `Recordings (${listing.meta.totalCount})`,
      h(
        "div",
        { class: "scroll" },
        h(
          "table",
          { class: "recordings" },
          h("thead", {}, h("tr", {}, ["Id", "Kind", "Start", "Duration", "Size", "", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows),
        ),
      ),
    ),
    section("Tags", tagRows.length ? h("ul", { class: "tags" }, tagRows) : h("p", {}, "No tags.")),
  );
  return { node, cleanup: () => player && player.stop() };
}
