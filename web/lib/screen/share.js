// @ts-check
/**
 * View-only screen sharing from the page itself: frames of a
 * `getDisplayMedia` stream are drawn to a canvas, encoded by the browser as
 * JPEG, wrapped as keyframe updates of the screen stream (one Jpeg
 * operation over the whole picture, docs/protocol.md §9) and handed to
 * `send`, paced by the viewer's acknowledgements (at most two
 * unacknowledged), so a slow link never queues stale pictures.
 * @module
 */

import { concat, u16, u32 } from '../bytes.js';

/** The zlib stream of nothing (the update's empty pixel section). */
async function emptyZlib() {
  const out = await new Response(new Blob([]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer();
  return new Uint8Array(out);
}

/**
 * One keyframe update carrying a whole-picture JPEG.
 * @param {number} seq @param {number} width @param {number} height @param {Uint8Array} jpeg @param {Uint8Array} zlibEmpty
 */
export function jpegUpdate(seq, width, height, jpeg, zlibEmpty) {
  return concat(
    new Uint8Array([0x01, 0x01]),
    u32(seq),
    u16(width),
    u16(height),
    u16(1),
    u32(zlibEmpty.length),
    u32(0),
    new Uint8Array([0x05]),
    u16(0),
    u16(0),
    u16(width),
    u16(height),
    u32(jpeg.length),
    jpeg,
    zlibEmpty,
  );
}

export class ScreenShare {
  /**
   * @param {MediaStream} stream
   * @param {(update: Uint8Array) => void} send
   * @param {{ maxWidth?: number, fps?: number, quality?: number }} [options]
   */
  constructor(stream, send, options = {}) {
    this.stream = stream;
    this.send = send;
    this.maxWidth = options.maxWidth ?? 1920;
    this.interval = 1000 / (options.fps ?? 10);
    this.quality = options.quality ?? 0.7;
    this.seq = 0;
    this.acked = 0;
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.srcObject = stream;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.stopped = false;
    /** @type {Uint8Array | null} */
    this.zlibEmpty = null;
    this.forceKey = true;
  }

  async start() {
    this.zlibEmpty = await emptyZlib();
    await this.video.play();
    this.tick();
  }

  /** The viewer acknowledged update `seq`. @param {number} seq */
  onAck(seq) {
    if (seq > this.acked) this.acked = seq;
  }

  /** The viewer asked for a fresh picture. */
  onRefresh() {
    this.acked = this.seq;
  }

  /** @private */
  async tick() {
    if (this.stopped) return;
    try {
      if (this.seq - this.acked < 2 && this.video.videoWidth > 0) {
        const scale = Math.min(1, this.maxWidth / this.video.videoWidth);
        const w = Math.max(2, Math.round(this.video.videoWidth * scale));
        const hgt = Math.max(2, Math.round(this.video.videoHeight * scale));
        const canvas = new OffscreenCanvas(w, hgt);
        const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
        ctx.drawImage(this.video, 0, 0, w, hgt);
        const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: this.quality });
        const jpeg = new Uint8Array(await blob.arrayBuffer());
        this.seq += 1;
        this.send(jpegUpdate(this.seq, w, hgt, jpeg, /** @type {Uint8Array} */ (this.zlibEmpty)));
      }
    } catch (e) {
      console.warn('screen share frame failed', e);
    }
    this.timer = setTimeout(() => this.tick(), this.interval);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.stream.getTracks()) t.stop();
  }
}
