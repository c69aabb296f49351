// @ts-check
/**
 * File transfer in the page (docs/protocol.md §7.5): offer → accept (from
 * an offset) → 64 KiB chunks → end with the SHA-256 → done, in both
 * directions. Received files stay in memory until saved, and are offered
 * only when whole and matching; a mismatch, a bad name or a gap is
 * reported to the sender as `file_error`. A whole file that is the EICAR
 * test file is dropped, never offered (the page's quarantine: nothing is
 * kept), the sender is told with the threat's name, and `onThreat` hears
 * of it to raise the security event. Names offered are checked against the
 * tenant's restricted-data policy first.
 * @module
 */

import { toHex } from './bytes.js';
import { check, RestrictedDataError } from './restricted.js';
import { MAX_FILE_CHUNK } from './session/messages.js';

/** The signature name scanners report for the EICAR test file. */
export const EICAR_NAME = 'Eicar-Test-Signature';
/** The test file's 68 bytes, built from halves so this file is not flagged itself. */
const EICAR = new TextEncoder().encode('X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');

/**
 * Whether these bytes (a whole file) are the EICAR test file: the string,
 * then only whitespace (or ^Z), 128 bytes at most — as the Rust detector.
 * @param {Uint8Array} bytes
 */
export function isEicar(bytes) {
  if (bytes.length < EICAR.length || bytes.length > 128) return false;
  for (let i = 0; i < EICAR.length; i++) if (bytes[i] !== EICAR[i]) return false;
  for (let i = EICAR.length; i < bytes.length; i++) {
    const b = bytes[i];
    if (!(b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0x1a)) return false;
  }
  return true;
}

/**
 * A file's name under the tenant's policy: unchanged, masked (with `x`, as
 * `*` is not allowed in names), or refused.
 * @param {string | undefined} policy @param {string} name
 */
export function nameUnderPolicy(policy, name) {
  const chosen = policy === 'mask' || policy === 'block' ? policy : 'warn';
  return check(chosen, name).text.replaceAll('*', 'x');
}

/** Bytes in flight before the sender waits for acknowledgements. */
const WINDOW = 4 * 1024 * 1024;
const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/** Whether a received name is safe to save as is (the agent's rules). @param {string} name */
export function nameOk(name) {
  if (!name || name.length > 255) return false;
  if (/[/\\:*?"<>|\u0000-\u001f\u007f]/.test(name)) return false;
  if (name.startsWith('.') || /[. ]$/.test(name) || RESERVED.test(name)) return false;
  return true;
}

/**
 * @typedef {object} Transfer
 * @property {number} id
 * @property {number} peer
 * @property {'out' | 'in'} direction
 * @property {string} name
 * @property {number} size
 * @property {number} done      bytes moved
 * @property {'offered' | 'moving' | 'checking' | 'done' | 'failed'} state
 * @property {string} [error]
 * @property {Blob} [blob]      received file, once whole and checked
 * @property {string} [sha256]  its SHA-256 (hex), once checked
 */

export class Transfers {
  /**
   * @param {{ send: (to: number, m: import('./session/messages.js').Message) => Promise<void>, backlog: number }} session
   * @param {(t: Transfer) => void} onChange
   * @param {{ policy?: () => string | undefined, onThreat?: (threat: string, sha256: string) => void }} [options]
   */
  constructor(session, onChange, options = {}) {
    this.session = session;
    this.onChange = onChange;
    this.options = options;
    this.nextId = 1;
    /** @type {Map<string, Transfer & { file?: Blob, accepted?: (offset: number) => void, refused?: (why: string) => void, finished?: (ok: boolean, why?: string) => void, parts?: Uint8Array[] }>} */
    this.all = new Map();
  }

  /** Send `file` to member `to`. @param {number} to @param {File} file @returns {Promise<Transfer>} */
  async send(to, file) {
    const id = this.nextId++;
    /** @type {Transfer & { file?: Blob, accepted?: (offset: number) => void, refused?: (why: string) => void, finished?: (ok: boolean, why?: string) => void }} */
    const t = { id, peer: to, direction: 'out', name: file.name, size: file.size, done: 0, state: 'offered', file };
    this.all.set(`out/${to}/${id}`, t);
    try {
      t.name = nameUnderPolicy(this.options.policy?.(), file.name);
    } catch (e) {
      if (!(e instanceof RestrictedDataError)) throw e;
      t.state = 'failed';
      t.error = `not sent: the file name holds restricted data (${e.message})`;
      this.onChange(t);
      return t;
    }
    this.onChange(t);
    const offset = await new Promise((resolve, reject) => {
      t.accepted = resolve;
      t.refused = reject;
      this.session.send(to, { type: 'file_offer', id, name: t.name, size: file.size });
    }).catch((why) => {
      t.state = 'failed';
      t.error = String(why);
      this.onChange(t);
      return null;
    });
    if (offset === null) return t;
    t.state = 'moving';
    const data = new Uint8Array(await file.arrayBuffer());
    const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
    t.sha256 = digest;
    for (let at = Math.min(offset, data.length); at < data.length; at += MAX_FILE_CHUNK) {
      while (this.session.backlog > WINDOW) await new Promise((r) => setTimeout(r, 10));
      if (/** @type {string} */ (t.state) === 'failed') return t;
      const chunk = data.subarray(at, Math.min(data.length, at + MAX_FILE_CHUNK));
      await this.session.send(to, { type: 'file_chunk', id, offset: at, data: chunk.slice() });
      t.done = at + chunk.length;
      this.onChange(t);
    }
    t.state = 'checking';
    this.onChange(t);
    const result = await new Promise((resolve) => {
      t.finished = (ok, why) => resolve({ ok, why });
      this.session.send(to, { type: 'file_end', id, sha256: digest });
    });
    t.state = result.ok ? 'done' : 'failed';
    t.error = result.why;
    t.done = result.ok ? t.size : t.done;
    this.onChange(t);
    return t;
  }

  /**
   * Handle a message from `from`; returns whether it was a file message.
   * @param {number} from @param {import('./session/messages.js').Message} m
   */
  handle(from, m) {
    if (m.type === 'file_offer') {
      const key = `in/${from}/${m.id}`;
      /** @type {Transfer & { parts: Uint8Array[] }} */
      const t = { id: m.id, peer: from, direction: 'in', name: m.name, size: m.size, done: 0, state: 'moving', parts: [] };
      this.all.set(key, t);
      if (!nameOk(m.name)) {
        t.state = 'failed';
        t.error = 'bad file name';
        this.control(from, { type: 'file_error', id: m.id, error: 'bad file name' });
      } else {
        this.control(from, { type: 'file_accept', id: m.id, offset: 0 });
      }
      this.onChange(t);
      return true;
    }
    if (m.type === 'file_chunk') {
      const t = this.all.get(`in/${from}/${m.id}`);
      if (!t || t.state !== 'moving' || !t.parts) return true;
      if (m.offset !== t.done || t.done + m.data.length > t.size) {
        t.state = 'failed';
        t.error = 'chunk out of place';
        this.control(from, { type: 'file_error', id: m.id, error: t.error });
      } else {
        t.parts.push(m.data);
        t.done += m.data.length;
      }
      this.onChange(t);
      return true;
    }
    if (m.type === 'file_end') {
      const t = this.all.get(`in/${from}/${m.id}`);
      if (!t || t.state !== 'moving' || !t.parts) return true;
      t.state = 'checking';
      this.onChange(t);
      const blob = new Blob(/** @type {BlobPart[]} */ (t.parts));
      t.parts = [];
      blob.arrayBuffer().then(async (buf) => {
        const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)));
        if (t.done !== t.size || digest !== m.sha256.toLowerCase()) {
          t.state = 'failed';
          t.error = 'SHA-256 mismatch';
          this.control(from, { type: 'file_error', id: m.id, error: 'mismatch' });
        } else if (isEicar(new Uint8Array(buf))) {
          t.state = 'failed';
          t.error = `malware found (${EICAR_NAME}): the file was quarantined`;
          t.sha256 = digest;
          this.control(from, { type: 'file_error', id: m.id, error: t.error, threat: EICAR_NAME });
          this.options.onThreat?.(EICAR_NAME, digest);
        } else {
          t.state = 'done';
          t.blob = blob;
          t.sha256 = digest;
          this.control(from, { type: 'file_done', id: m.id });
        }
        this.onChange(t);
      });
      return true;
    }
    if (m.type === 'control') {
      const v = m.value;
      const t = this.all.get(`out/${from}/${v.id}`);
      if (v.type === 'file_accept' && t) {
        t.accepted?.(Number(v.offset) || 0);
        return true;
      }
      if (v.type === 'file_done' && t) {
        t.finished?.(true);
        return true;
      }
      if (v.type === 'file_error') {
        if (t) {
          t.refused?.(v.error);
          t.finished?.(false, String(v.error));
          if (t.state !== 'done') {
            t.state = 'failed';
            t.error = String(v.error);
            this.onChange(t);
          }
        }
        const incoming = this.all.get(`in/${from}/${v.id}`);
        if (incoming && incoming.state !== 'done') {
          incoming.state = 'failed';
          incoming.error = String(v.error);
          this.onChange(incoming);
        }
        return true;
      }
    }
    return false;
  }

  /** @private @param {number} to @param {Record<string, any>} value */
  control(to, value) {
    this.session.send(to, { type: 'control', value });
  }
}

/**
 * A drop zone with a file picker: calls `onFiles` with what was dropped or
 * chosen. Keyboard users use the button.
 * @param {HTMLElement} zone @param {(files: File[]) => void} onFiles
 */
export function dropZone(zone, onFiles) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
}
