// @ts-check
/**
 * A camera share's call: WebRTC between the customer's phone and the
 * expert's browser (DTLS-SRTP, peer to peer, or through TURN, which relays
 * only what it cannot read). The offer, the answer and the ICE candidates
 * travel through `send` — the session's end-to-end channel — so neither
 * the control plane nor a relay can swap the DTLS fingerprints in them.
 * Once connected, each side also checks that the certificate the other
 * presented is the one whose fingerprint came through that channel, and
 * hangs up otherwise. The camera-share control messages are checked here
 * too (`check`), before anything acts on them.
 * @module
 */

import { toHex } from './bytes.js';

export const MAX_SDP = 32 * 1024;
const MAX_CANDIDATE = 1024;
/** How long a broken path may stay broken before the offerer restarts ICE. */
const RESTART_AFTER_MS = 3000;

/** A camera-share control message that does not hold: refused, never acted on. */
export class CameraMessageError extends Error {}

/**
 * Checks a camera-share control value (`docs/protocol.md` §8.2) and returns
 * it, or throws {@link CameraMessageError}.
 * @param {Record<string, any>} v
 */
export function check(v) {
  const fail = (/** @type {string} */ why) => {
    throw new CameraMessageError(`${v.type}: ${why}`);
  };
  const only = (/** @type {string[]} */ keys) => {
    for (const k of Object.keys(v)) if (k !== 'type' && !keys.includes(k)) fail(`unknown field ${k}`);
  };
  switch (v.type) {
    case 'rtc_offer':
    case 'rtc_answer':
      only(['sdp']);
      if (typeof v.sdp !== 'string' || v.sdp.length === 0 || v.sdp.length > MAX_SDP) fail('sdp');
      if (!fingerprintOf(v.sdp)) fail('no single sha-256 fingerprint');
      return v;
    case 'rtc_candidate':
      only(['candidate', 'mid', 'index']);
      if (typeof v.candidate !== 'string' || v.candidate.length > MAX_CANDIDATE) fail('candidate');
      if (v.mid !== null && v.mid !== undefined && (typeof v.mid !== 'string' || v.mid.length > 32)) fail('mid');
      if (v.index !== null && v.index !== undefined && !(Number.isInteger(v.index) && v.index >= 0 && v.index < 64)) fail('index');
      return v;
    case 'annotate':
      only(['shape', 'points']);
      if (v.shape !== 'arrow' && v.shape !== 'circle') fail('shape');
      if (!Array.isArray(v.points) || v.points.length !== 4 || v.points.some((/** @type {unknown} */ p) => typeof p !== 'number' || !(p >= 0 && p <= 1))) fail('points');
      return v;
    case 'annotate_clear':
      only([]);
      return v;
    case 'camera_ask':
      only(['facing', 'torch']);
      if (v.facing !== undefined && v.facing !== 'user' && v.facing !== 'environment') fail('facing');
      if (v.torch !== undefined && typeof v.torch !== 'boolean') fail('torch');
      return v;
    case 'camera_state':
      only(['facing', 'torch', 'torch_available']);
      if (typeof v.torch !== 'boolean' || typeof v.torch_available !== 'boolean') fail('torch');
      if (v.facing !== null && v.facing !== 'user' && v.facing !== 'environment') fail('facing');
      return v;
    default:
      return fail('not a camera-share message');
  }
}

/** Whether `type` names a camera-share control message. @param {unknown} type */
export function isCameraMessage(type) {
  return typeof type === 'string' && ['rtc_offer', 'rtc_answer', 'rtc_candidate', 'annotate', 'annotate_clear', 'camera_ask', 'camera_state'].includes(type);
}

/**
 * The SHA-256 certificate fingerprint an SDP names (lowercase hex, no
 * colons), or null if it names none, another hash only, or two different.
 * @param {string} sdp
 */
export function fingerprintOf(sdp) {
  const found = new Set();
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=fingerprint:sha-256 ((?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})\s*$/.exec(line);
    if (m) found.add(m[1].replace(/:/g, '').toLowerCase());
    else if (line.startsWith('a=fingerprint:')) return null;
  }
  return found.size === 1 ? /** @type {string} */ ([...found][0]) : null;
}

/**
 * @typedef {object} CallOptions
 * @property {'offerer' | 'answerer'} role the customer offers (it has the camera)
 * @property {RTCIceServer[]} iceServers
 * @property {boolean} [relayOnly] TURN only (no direct candidates)
 * @property {(v: Record<string, any>) => void} send into the end-to-end channel
 * @property {(stream: MediaStream) => void} [onTrack]
 * @property {(state: string) => void} [onState]
 * @property {(why: string) => void} [onRefused] the call was refused and closed
 */

export class CameraCall {
  /** @param {CallOptions} o */
  constructor(o) {
    this.o = o;
    this.pc = new RTCPeerConnection({ iceServers: o.iceServers, iceTransportPolicy: o.relayOnly ? 'relay' : 'all' });
    /** The other side's certificate fingerprint, as the sealed channel gave it. @type {string | null} */
    this.remoteFingerprint = null;
    /** Whether the connected peer's certificate matched it. */
    this.verified = false;
    this.closed = false;
    /** @type {RTCIceCandidateInit[]} */
    this.early = [];
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.restartTimer = null;
    /** ICE restarts so far (network changes). */
    this.restarts = 0;
    this.pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) o.send({ type: 'rtc_candidate', candidate: e.candidate.candidate, mid: e.candidate.sdpMid, index: e.candidate.sdpMLineIndex });
    };
    this.pc.ontrack = (e) => o.onTrack?.(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onconnectionstatechange = () => this.stateChanged();
  }

  /** @private */
  stateChanged() {
    const st = this.pc.connectionState;
    if (st === 'connected') {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.verify().catch((e) => this.refuse(`the peer's certificate could not be checked: ${e}`));
    } else if ((st === 'disconnected' || st === 'failed') && this.o.role === 'offerer' && !this.closed && !this.restartTimer) {
      // A network switch (Wi-Fi ↔ mobile): new candidates, same call.
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (!this.closed && this.pc.connectionState !== 'connected') this.restart().catch(() => {});
      }, st === 'failed' ? 0 : RESTART_AFTER_MS);
    }
    this.o.onState?.(st);
  }

  /** Offer `stream` (the customer's camera). @param {MediaStream} stream */
  async offer(stream) {
    for (const t of stream.getTracks()) {
      const sender = this.pc.addTrack(t, stream);
      // Sharp rather than smooth: a label or an LED must stay readable.
      const p = sender.getParameters();
      p.degradationPreference = 'maintain-resolution';
      await sender.setParameters(p).catch(() => {});
    }
    await this.sendOffer(false);
  }

  /** ICE restart after the path broke. */
  async restart() {
    this.restarts += 1;
    await this.sendOffer(true);
  }

  /** @private @param {boolean} iceRestart */
  async sendOffer(iceRestart) {
    const d = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(d);
    this.o.send({ type: 'rtc_offer', sdp: this.pc.localDescription?.sdp ?? d.sdp });
  }

  /** Replace the camera track (front ↔ rear) without renegotiating. @param {MediaStreamTrack} track */
  async replaceVideo(track) {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === 'video');
    await sender?.replaceTrack(track);
  }

  /**
   * Acts on a checked signalling message from the other side.
   * @param {Record<string, any>} v
   */
  async handle(v) {
    if (this.closed) return;
    if (v.type === 'rtc_offer' || v.type === 'rtc_answer') {
      const fp = fingerprintOf(v.sdp);
      if (this.remoteFingerprint && fp !== this.remoteFingerprint) return this.refuse('the other side changed its certificate mid-call');
      this.remoteFingerprint = fp;
      if (v.type === 'rtc_offer') {
        if (this.o.role !== 'answerer') return;
        await this.pc.setRemoteDescription({ type: 'offer', sdp: v.sdp });
        await this.flush();
        const answer = await this.pc.createAnswer();
        await this.pc.setLocalDescription(answer);
        this.o.send({ type: 'rtc_answer', sdp: this.pc.localDescription?.sdp ?? answer.sdp });
      } else {
        if (this.o.role !== 'offerer' || this.pc.signalingState !== 'have-local-offer') return;
        await this.pc.setRemoteDescription({ type: 'answer', sdp: v.sdp });
        await this.flush();
      }
    } else if (v.type === 'rtc_candidate') {
      const c = { candidate: v.candidate, sdpMid: v.mid ?? null, sdpMLineIndex: v.index ?? null };
      if (!this.pc.remoteDescription) this.early.push(c);
      else await this.pc.addIceCandidate(c).catch(() => {});
    }
  }

  /** @private */
  async flush() {
    const list = this.early;
    this.early = [];
    for (const c of list) await this.pc.addIceCandidate(c).catch(() => {});
  }

  /**
   * The connected peer's DTLS certificate against the fingerprint that
   * came through the end-to-end channel.
   * @private
   */
  async verify() {
    /** @type {ArrayBuffer[]} */
    let certs = [];
    // Right at `connected` the transport may not show the certificate yet.
    for (let tries = 0; tries < 20 && !certs.length && !this.closed; tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 100));
      const transport = this.pc.getSenders()[0]?.transport ?? this.pc.getReceivers()[0]?.transport;
      certs = transport && 'getRemoteCertificates' in transport ? /** @type {any} */ (transport).getRemoteCertificates() : [];
    }
    if (!certs.length) return; // not exposed here: the sealed signalling is the guarantee
    const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', certs[0])));
    if (digest !== this.remoteFingerprint) return this.refuse("the peer's certificate is not the one its end-to-end signalling named");
    this.verified = true;
    this.o.onState?.('verified');
  }

  /** @private @param {string} why */
  refuse(why) {
    this.close();
    this.o.onRefused?.(why);
  }

  /** How the media flows now: `relay` (TURN), `direct`, or null. */
  async path() {
    const stats = await this.pc.getStats();
    /** @type {any} */
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    if (!pair) stats.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    return local?.candidateType === 'relay' ? 'relay' : 'direct';
  }

  close() {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.pc.close();
  }
}

/**
 * Draws an annotation on a 2D context of size w × h.
 * @param {CanvasRenderingContext2D} g @param {{ shape: string, points: number[] }} a @param {number} w @param {number} h
 */
export function drawAnnotation(g, a, w, h) {
  const [x1, y1, x2, y2] = [a.points[0] * w, a.points[1] * h, a.points[2] * w, a.points[3] * h];
  g.save();
  g.strokeStyle = '#ff2d55';
  g.fillStyle = '#ff2d55';
  g.lineWidth = Math.max(3, Math.round(Math.min(w, h) / 120));
  g.beginPath();
  if (a.shape === 'circle') {
    g.ellipse((x1 + x2) / 2, (y1 + y2) / 2, Math.abs(x2 - x1) / 2 || 1, Math.abs(y2 - y1) / 2 || 1, 0, 0, 2 * Math.PI);
    g.stroke();
  } else {
    g.moveTo(x1, y1);
    g.lineTo(x2, y2);
    g.stroke();
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const head = g.lineWidth * 5;
    g.beginPath();
    g.moveTo(x2, y2);
    g.lineTo(x2 - head * Math.cos(angle - 0.4), y2 - head * Math.sin(angle - 0.4));
    g.lineTo(x2 - head * Math.cos(angle + 0.4), y2 - head * Math.sin(angle + 0.4));
    g.closePath();
    g.fill();
  }
  g.restore();
}
