// A stream's live view, MJPEG or fragmented MP4 (H.264), chosen per device.
//
// MJPEG is an <img> on the stream's /video URL. fMP4 is a <video> fed through Media
// Source Extensions from a WebSocket on the same URL: the server sends an init segment
// (ftyp + moov), then one fragment (moof + mdat) per picture, each message appended to
// the SourceBuffer as it is (docs/streams.md). The SourceBuffer's type is read from the
// init segment's avcC record (avc1.PPCCLL). The buffer runs in "sequence" mode, so a
// viewer joining a running stream plays from 0 whatever the stream's own decode times;
// the player keeps to the live edge and drops what it has played.
//
// Self-contained: the page mounts it with liveView(url, label, device) and a
// videoModeSelect(device, onChange) control; nothing else of the page is touched.

const PROBE = 'video/mp4; codecs="avc1.42E01E"';
const KEY = (device) => `camnet.live.${device}`;
const KEEP_SECONDS = 10;
const MAX_LAG_SECONDS = 1.5;

// Whether this browser can play the fMP4 view (H.264 through MSE).
export function fmp4Playable() {
  return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(PROBE);
}

// The mode a device shows until someone chooses: MJPEG, which every browser plays with
// the least delay (the existing view, and what the dashboard's tests look for).
export const DEFAULT_MODE = "mjpeg";

// "fmp4" or "mjpeg" for this device: the choice kept in this browser, else the default;
// always MJPEG where this browser cannot play H.264.
export function videoMode(device) {
  let chosen = null;
  try {
    chosen = localStorage.getItem(KEY(device));
  } catch {
    chosen = null;
  }
  if (chosen !== "mjpeg" && chosen !== "fmp4") chosen = DEFAULT_MODE;
  return chosen === "fmp4" && !fmp4Playable() ? "mjpeg" : chosen;
}

// The codecs parameter of an init segment: "avc1." + profile, compatibility, level.
export function codecOf(bytes) {
  for (let i = 4; i + 8 <= bytes.length; i += 1) {
    // "avcC" box type, then configurationVersion 1 and three bytes.
    if (bytes[i] === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x63 && bytes[i + 3] === 0x43) {
      const hex = (b) => b.toString(16).padStart(2, "0");
      return `avc1.${hex(bytes[i + 5])}${hex(bytes[i + 6])}${hex(bytes[i + 7])}`;
    }
  }
  return null;
}

function isInit(bytes) {
  // ftyp at the start: the init segment.
  return bytes.length > 8 && bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70;
}

export class Fmp4Player {
  constructor(video, url, onFail) {
    this.video = video;
    this.url = url;
    this.onFail = onFail;
    this.queue = [];
    this.buffer = null;
    this.socket = null;
    this.source = null;
    this.objectUrl = null;
    this.stopped = false;
    this.received = 0;
    this.appended = 0;
  }

  start() {
    this.source = new MediaSource();
    this.objectUrl = URL.createObjectURL(this.source);
    this.source.addEventListener("sourceopen", () => this.open(), { once: true });
    this.video.src = this.objectUrl;
  }

  open() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const target = new URL(this.url, location.href);
    this.socket = new WebSocket(`${scheme}//${target.host}${target.pathname}`);
    this.socket.binaryType = "arraybuffer";
    this.socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer) || event.data.byteLength === 0) return;
      this.received += 1;
      this.queue.push(new Uint8Array(event.data));
      this.pump();
    });
    this.socket.addEventListener("close", () => {
      if (!this.stopped && this.received === 0) this.fail("the server refused the H.264 view");
    });
  }

  pump() {
    if (this.stopped || !this.queue.length) return;
    if (!this.buffer) {
      const first = this.queue[0];
      const codec = isInit(first) ? codecOf(first) : null;
      if (!codec) {
        this.queue.shift(); // nothing can be played before an init segment
        return;
      }
      const type = `video/mp4; codecs="${codec}"`;
      if (!MediaSource.isTypeSupported(type)) {
        this.fail(`this browser cannot play ${codec}`);
        return;
      }
      this.buffer = this.source.addSourceBuffer(type);
      this.buffer.mode = "sequence";
      this.buffer.addEventListener("updateend", () => this.updated());
      this.buffer.addEventListener("error", () => this.fail("the browser could not decode the stream"));
    }
    if (this.buffer.updating) return;
    try {
      this.buffer.appendBuffer(this.queue.shift());
      this.appended += 1;
      this.video.dataset.appended = String(this.appended);
    } catch (error) {
      this.fail(String(error));
    }
  }

  updated() {
    const video = this.video;
    const ranges = this.buffer.buffered;
    if (ranges.length) {
      const end = ranges.end(ranges.length - 1);
      // Keep to the live edge: a tab in the background, or a slow start, falls behind.
      if (end - video.currentTime > MAX_LAG_SECONDS) video.currentTime = Math.max(0, end - 0.2);
      if (video.paused) video.play().catch(() => {});
      const start = ranges.start(0);
      if (video.currentTime - start > 2 * KEEP_SECONDS) {
        this.buffer.remove(start, video.currentTime - KEEP_SECONDS);
        return; // updateend comes again when the removal is done
      }
    }
    this.pump();
  }

  fail(reason) {
    if (this.stopped) return;
    this.stop();
    if (this.onFail) this.onFail(reason);
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close();
    this.video.removeAttribute("src");
    this.video.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
  }
}

function mjpegFigure(url, label) {
  const image = document.createElement("img");
  image.src = url;
  image.alt = label;
  image.className = "live-view";
  return image;
}

// A <figure> showing the stream at `url` in the device's chosen mode; figure.stop()
// ends its connection. An fMP4 view that fails falls back to MJPEG.
export function liveView(url, label, device) {
  const figure = document.createElement("figure");
  figure.className = "live";
  const caption = document.createElement("figcaption");
  caption.textContent = label;
  let player = null;
  let media = null;
  const showMjpeg = () => {
    media = mjpegFigure(url, label);
    figure.replaceChildren(media, caption);
    figure.dataset.mode = "mjpeg";
  };
  if (videoMode(device) === "fmp4") {
    media = document.createElement("video");
    media.className = "live-view";
    media.muted = true;
    media.autoplay = true;
    media.playsInline = true;
    media.setAttribute("aria-label", label);
    figure.append(media, caption);
    figure.dataset.mode = "fmp4";
    player = new Fmp4Player(media, url, (reason) => {
      figure.dataset.fallback = reason;
      showMjpeg();
    });
    player.start();
  } else {
    showMjpeg();
  }
  figure.stop = () => {
    if (player) player.stop();
    if (media && media.tagName === "IMG") media.removeAttribute("src");
  };
  return figure;
}

// The per-device choice: a <select> of MJPEG and H.264 (fMP4), the latter disabled where
// the browser cannot play it. onChange runs after the choice is kept.
export function videoModeSelect(device, onChange) {
  const label = document.createElement("label");
  label.textContent = "Video ";
  const select = document.createElement("select");
  select.id = "video-mode";
  const playable = fmp4Playable();
  for (const [value, text] of [
    ["mjpeg", "MJPEG"],
    ["fmp4", playable ? "H.264 (fMP4)" : "H.264 (fMP4): not playable in this browser"],
  ]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    option.disabled = value === "fmp4" && !playable;
    select.append(option);
  }
  select.value = videoMode(device);
  select.addEventListener("change", () => {
    try {
      localStorage.setItem(KEY(device), select.value);
    } catch {
      // a browser without storage keeps the choice for this page only
    }
    onChange(select.value);
  });
  label.htmlFor = select.id;
  const paragraph = document.createElement("p");
  paragraph.append(label, select);
  return paragraph;
}
