// Plays camnet's recordings in the browser. They are Matroska files of JPEG frames
// (MJPEG), which <video> cannot decode, so this reads the file with HTTP Range requests
// (a chunk at a time), walks its EBML structure, and shows each frame's JPEG on a
// canvas at the frame's own time. Seeking needs only the chunks already read.

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

export class RecordingPlayer {
  constructor(url, canvas, onProgress) {
    this.url = url;
    this.canvas = canvas;
    this.onProgress = onProgress;
    this.frames = [];
    this.state = { scale: 1000000, cluster: 0 };
    this.buffer = new Uint8Array(0);
    this.parsed = 0;
    this.total = null;
    this.playing = false;
    this.position = 0;
    this.shown = 0;
    this.ranges = 0;
    this.stopped = false;
  }

  async loadNext() {
    const from = this.buffer.byteLength;
    if (this.total !== null && from >= this.total) return false;
    const response = await fetch(this.url, {
      headers: { Range: `bytes=${from}-${from + CHUNK - 1}` },
      credentials: "same-origin",
    });
    if (response.status !== 206 && response.status !== 200) {
      throw new Error(`the recording could not be read (HTTP ${response.status})`);
    }
    this.ranges += 1;
    const range = response.headers.get("Content-Range");
    if (range && range.includes("/")) this.total = parseInt(range.split("/")[1], 10);
    const chunk = new Uint8Array(await response.arrayBuffer());
    if (response.status === 200) this.total = chunk.byteLength;
    const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.byteLength);
    this.buffer = joined;
    this.parsed = parseFrames(joined.buffer, this.parsed, this.state, (f) => this.frames.push(f));
    return chunk.byteLength > 0;
  }

  get duration() {
    return this.frames.length ? this.frames[this.frames.length - 1].time - this.frames[0].time : 0;
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
    this.position = frame.time - this.frames[0].time;
    this.onProgress(this);
  }

  async play() {
    this.playing = true;
    if (!this.frames.length) await this.loadNext();
    let index = Math.max(0, this.frames.findIndex((f) => f.time - this.frames[0].time >= this.position));
    if (index >= this.frames.length - 1) index = 0;
    const wallStart = performance.now();
    const mediaStart = this.frames[index].time;
    while (this.playing && !this.stopped) {
      if (index >= this.frames.length - 8 && !(await this.loadNext()) && index >= this.frames.length) break;
      if (index >= this.frames.length) break;
      const due = (this.frames[index].time - mediaStart) * 1000 - (performance.now() - wallStart);
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      await this.draw(index);
      index += 1;
    }
    this.playing = false;
    this.onProgress(this);
  }

  pause() {
    this.playing = false;
  }

  async seek(seconds) {
    this.position = seconds;
    const first = this.frames[0]?.time ?? 0;
    const index = this.frames.findIndex((f) => f.time - first >= seconds);
    if (index >= 0) await this.draw(index);
  }

  stop() {
    this.stopped = true;
    this.playing = false;
  }
}
