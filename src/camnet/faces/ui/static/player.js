// Plays camnet's recordings in the browser. They are Matroska files of JPEG frames
// (MJPEG), which <video> cannot decode, so this reads the file with HTTP Range requests
// (a chunk at a time), walks its EBML structure, and shows each frame's JPEG on a
// canvas at the frame's own time. Seeking reaches any moment: a part not read yet is
// fetched from its estimated byte offset with a Range request (see RecordingPlayer).

const IDS = {
  segment: 0x18538067,
  cluster: 0x1f43b675,
  info: 0x1549a966,
  timecodeScale: 0x2ad7b1,
  timecode: 0xe7,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
  block: 0xa1,
};
const CONTAINERS = new Set([IDS.segment, IDS.cluster, IDS.info, IDS.blockGroup]);
const CHUNK = 512 * 1024;

function readId(view, pos) {
  const first = view.getUint8(pos);
  let length = 1;
  while (length <= 4 && !(first & (0x80 >> (length - 1)))) length += 1;
  if (length > 4 || pos + length > view.byteLength) return null;
  let id = 0;
  for (let i = 0; i < length; i += 1) id = id * 256 + view.getUint8(pos + i);
  return { id, length };
}

function readSize(view, pos) {
  const first = view.getUint8(pos);
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length += 1;
  if (length > 8 || pos + length > view.byteLength) return null;
  let size = first & (0xff >> length);
  let unknown = size === (0xff >> length);
  for (let i = 1; i < length; i += 1) {
    const byte = view.getUint8(pos + i);
    size = size * 256 + byte;
    if (byte !== 0xff) unknown = false;
  }
  return { size: unknown ? -1 : size, length };
}

function readUint(view, pos, size) {
  let value = 0;
  for (let i = 0; i < size; i += 1) value = value * 256 + view.getUint8(pos + i);
  return value;
}

// Parses as far as the bytes go; returns the position to resume from.
export function parseFrames(buffer, start, state, onFrame) {
  const view = new DataView(buffer);
  let pos = start;
  while (pos < view.byteLength) {
    const id = readId(view, pos);
    if (!id) break;
    const size = readSize(view, pos + id.length);
    if (!size) break;
    const header = id.length + size.length;
    if (CONTAINERS.has(id.id)) {
      pos += header; // descend: the children follow
      continue;
    }
    if (size.size < 0 || pos + header + size.size > view.byteLength) break;
    const body = pos + header;
    if (id.id === IDS.timecodeScale) state.scale = readUint(view, body, size.size);
    else if (id.id === IDS.timecode) state.cluster = readUint(view, body, size.size);
    else if (id.id === IDS.simpleBlock || id.id === IDS.block) {
      const track = readSize(view, body);
      const relative = view.getInt16(body + track.length);
      const dataStart = body + track.length + 3;
      const ms = ((state.cluster + relative) * state.scale) / 1e6;
      onFrame({ time: ms / 1000, bytes: buffer.slice(dataStart, body + size.size) });
    }
    pos = body + size.size;
  }
  return pos;
}

const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75];

function findCluster(bytes, from = 0) {
  for (let i = from; i + 4 <= bytes.length; i += 1) {
    if (bytes[i] === CLUSTER_ID[0] && bytes[i + 1] === CLUSTER_ID[1] && bytes[i + 2] === CLUSTER_ID[2] && bytes[i + 3] === CLUSTER_ID[3]) return i;
  }
  return -1;
}

// Reads one window of the file at a time: from its start, or — after a seek to a part
// not read yet — from the cluster nearest the estimated byte offset of that moment
// (every frame is a key frame, so playback can begin at any cluster). Times are
// relative to the file's first frame, read from its first chunk.
export class RecordingPlayer {
  constructor(url, canvas, onProgress, duration = null) {
    this.url = url;
    this.canvas = canvas;
    this.onProgress = onProgress;
    this.knownDuration = duration;
    this.frames = [];
    this.state = { scale: 1000000, cluster: 0 };
    this.base = 0;
    this.buffer = new Uint8Array(0);
    this.parsed = 0;
    this.total = null;
    this.origin = null;
    this.playing = false;
    this.position = 0;
    this.shown = 0;
    this.ranges = 0;
    this.stopped = false;
    this.generation = 0;
  }

  async fetchRange(from, to) {
    const response = await fetch(this.url, {
      headers: { Range: `bytes=${from}-${to}` },
      credentials: "same-origin",
    });
    if (response.status !== 206 && response.status !== 200) {
      throw new Error(`the recording could not be read (HTTP ${response.status})`);
    }
    this.ranges += 1;
    this.canvas.dataset.ranges = String(this.ranges);
    this.canvas.dataset.lastRange = String(from);
    const range = response.headers.get("Content-Range");
    if (range && range.includes("/")) this.total = parseInt(range.split("/")[1], 10);
    const chunk = new Uint8Array(await response.arrayBuffer());
    if (response.status === 200) this.total = chunk.byteLength;
    return chunk;
  }

  append(chunk) {
    const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.byteLength);
    this.buffer = joined;
    this.parsed = parseFrames(joined.buffer, this.parsed, this.state, (f) => this.frames.push(f));
    if (this.origin === null && this.frames.length) this.origin = this.frames[0].time;
  }

  async loadNext() {
    const from = this.base + this.buffer.byteLength;
    if (this.total !== null && from >= this.total) return false;
    const chunk = await this.fetchRange(from, from + CHUNK - 1);
    this.append(chunk);
    return chunk.byteLength > 0;
  }

  get duration() {
    if (this.knownDuration) return this.knownDuration;
    return this.frames.length && this.origin !== null ? this.frames[this.frames.length - 1].time - this.origin : 0;
  }

  indexAt(seconds) {
    const index = this.frames.findIndex((f) => f.time - this.origin >= seconds - 1e-6);
    return index;
  }

  covers(seconds) {
    if (!this.frames.length || this.origin === null) return false;
    const first = this.frames[0].time - this.origin;
    const last = this.frames[this.frames.length - 1].time - this.origin;
    return first <= seconds + 1e-6 && seconds <= last;
  }

  // Start a new window at the cluster nearest the byte offset `offset`.
  async openWindow(offset) {
    const chunk = await this.fetchRange(offset, offset + CHUNK - 1);
    const at = findCluster(chunk);
    if (at < 0) return false;
    this.base = offset + at;
    this.buffer = new Uint8Array(0);
    this.parsed = 0;
    this.frames = [];
    this.state = { scale: this.state.scale, cluster: 0 };
    this.append(chunk.slice(at));
    return this.frames.length > 0;
  }

  async ensure(seconds) {
    if (!this.frames.length) await this.loadNext();
    if (this.covers(seconds)) return;
    const duration = this.duration;
    if (this.total && duration > 0) {
      let offset = Math.floor((seconds / duration) * this.total) - CHUNK / 2;
      for (let attempt = 0; attempt < 6; attempt += 1) {
        offset = Math.max(0, offset);
        if (await this.openWindow(offset)) {
          const first = this.frames[0].time - this.origin;
          if (first <= seconds + 1e-6) break;
          offset -= CHUNK; // landed after the moment: step back
        } else {
          offset -= CHUNK;
        }
      }
    }
    // Read on until the window reaches the moment (or the file ends).
    while (!this.covers(seconds) && (await this.loadNext()));
  }

  async draw(index) {
    const frame = this.frames[index];
    if (!frame) return;
    const bitmap = await createImageBitmap(new Blob([frame.bytes], { type: "image/jpeg" }));
    if (this.canvas.width !== bitmap.width) this.canvas.width = bitmap.width;
    if (this.canvas.height !== bitmap.height) this.canvas.height = bitmap.height;
    this.canvas.getContext("2d").drawImage(bitmap, 0, 0);
    bitmap.close();
    this.shown += 1;
    this.canvas.dataset.framesShown = String(this.shown);
    this.position = frame.time - this.origin;
    this.canvas.dataset.position = this.position.toFixed(3);
    this.onProgress(this);
  }

  async play() {
    const generation = ++this.generation;
    this.playing = true;
    if (this.position >= this.duration - 0.05) this.position = 0;
    await this.ensure(this.position);
    let index = Math.max(0, this.indexAt(this.position));
    const wallStart = performance.now();
    const mediaStart = this.frames[index]?.time ?? 0;
    while (this.playing && !this.stopped && generation === this.generation) {
      if (index >= this.frames.length - 8 && !(await this.loadNext()) && index >= this.frames.length) break;
      if (index >= this.frames.length) break;
      const due = (this.frames[index].time - mediaStart) * 1000 - (performance.now() - wallStart);
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      if (generation !== this.generation) return;
      await this.draw(index);
      index += 1;
    }
    if (generation === this.generation) this.playing = false;
    this.onProgress(this);
  }

  pause() {
    this.playing = false;
    this.generation += 1;
  }

  // Anywhere in the file: what is not read yet is fetched with a Range request.
  async seek(seconds) {
    const wasPlaying = this.playing;
    this.pause();
    this.position = Math.max(0, seconds);
    await this.ensure(this.position);
    const index = this.indexAt(this.position);
    await this.draw(index >= 0 ? index : this.frames.length - 1);
    if (wasPlaying) this.play();
  }

  stop() {
    this.stopped = true;
    this.playing = false;
    this.generation += 1;
  }
}
