// The live view's players, and the stage they are mounted into.
//
// Hook for another player (e.g. H.264 over WebSocket as fMP4): a module calls
//   registerLivePlayer("fmp4", "H.264", (container, options) => { …; return { stop() {} }; })
// and is imported once (e.g. from device.js). The stage (#live-view) then offers a
// "Video" picker; its data-live-mode attribute names the mounted player, and setting
// that attribute (from the picker or any script) unmounts the old player and mounts the
// new one into the stage's .live-player container. options: {device, head, alt}.
// The overlays (PTZ pad, zoom) sit above the container, whatever the player.
import { h } from "./dom.js";

const players = new Map();

export function registerLivePlayer(mode, label, mount) {
  players.set(mode, { label, mount });
}

registerLivePlayer("mjpeg", "MJPEG", (container, options) => {
  const image = h("img", { src: "/camera.mjpeg", alt: options.alt, class: "live-view" });
  container.replaceChildren(image);
  // An <img> keeps its MJPEG connection until its source goes.
  return { stop: () => image.removeAttribute("src") };
});

export function liveStage(options, ...overlays) {
  const container = h("div", { class: "live-player" });
  const stage = h("div", { id: "live-view", class: "live-stage", "data-live-mode": "mjpeg" }, container, ...overlays);
  let current = null;
  const mount = () => {
    const mode = players.has(stage.dataset.liveMode) ? stage.dataset.liveMode : "mjpeg";
    if (current) current.stop();
    current = players.get(mode).mount(container, options);
  };
  const observer = new MutationObserver(mount);
  observer.observe(stage, { attributes: true, attributeFilter: ["data-live-mode"] });
  const picker = players.size > 1
    ? h("label", { class: "live-mode", "data-keep": "" }, "Video ",
        h("select", { onchange: (e) => { stage.dataset.liveMode = e.target.value; } },
          [...players].map(([mode, p]) => h("option", { value: mode }, p.label))))
    : null;
  mount();
  return {
    stage,
    picker,
    stop() {
      observer.disconnect();
      if (current) current.stop();
      current = null;
    },
  };
}
