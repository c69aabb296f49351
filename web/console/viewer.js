// @ts-check
/**
 * The remote screen in the console: a canvas that scales to fit or shows
 * 1:1, pointer, wheel and keyboard capture (printable keys as text,
 * whatever the layouts; others by key code), touch to click, a phone
 * keyboard toggle, view-only, Ctrl+Alt+Del, full screen and a rate
 * indicator.
 * @module
 */

import * as input from '../lib/session/input.js';
import { h } from '../lib/ui.js';

/** @typedef {import('./expert.js').ExpertSession} ExpertSession */

/** Buttons as the protocol numbers them, by `PointerEvent.button`. */
const BUTTONS = [1, 2, 3, 8, 9];

/** @param {ExpertSession} session */
export function viewer(session) {
  const canvas = /** @type {HTMLCanvasElement} */ (
    h('canvas', { class: 'fit', tabindex: 0, width: 1, height: 1, 'aria-label': 'Remote screen. Click to control; keys go to the remote computer.', 'data-testid': 'screen' })
  );
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const overlay = h('div', { class: 'overlay', 'data-testid': 'screen-overlay' }, 'Waiting for the customer to share the screen…');
  const box = h('div', { class: 'viewer' }, canvas, overlay);
  let viewOnly = false;
  let fit = true;
  const rate = h('span', { class: 'muted', 'aria-live': 'off', 'data-testid': 'rate' }, '');
  const toggle = (/** @type {string} */ label, /** @type {(on: boolean) => void} */ set, initial = false) => {
    const b = h('button', { type: 'button', 'aria-pressed': String(initial) }, label);
    b.addEventListener('click', () => {
      const on = b.getAttribute('aria-pressed') !== 'true';
      b.setAttribute('aria-pressed', String(on));
      set(on);
    });
    return b;
  };
  const keyboardInput = /** @type {HTMLInputElement} */ (h('input', { class: 'visually-hidden', 'aria-label': 'Type on the remote computer', autocapitalize: 'off', autocomplete: 'off' }));
  keyboardInput.addEventListener('input', () => {
    if (!viewOnly && keyboardInput.value) session.input(input.text(keyboardInput.value.slice(0, 512)));
    keyboardInput.value = '';
  });
  /** The part of the picture shown: a monitor, or all of it (null). @type {{ x: number, y: number, w: number, h: number } | null} */
  let area = null;
  const monitorSelect = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': 'Monitor', 'data-testid': 'monitor' }, h('option', { value: '' }, 'All monitors')));
  monitorSelect.addEventListener('change', () => {
    const list = session.viewing === null ? [] : session.monitors.get(session.viewing) ?? [];
    const chosen = list[Number(monitorSelect.value)];
    area = monitorSelect.value === '' || !chosen ? null : chosen.rect;
    full = true;
    paintNow();
  });
  const toolbar = h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Screen controls' },
    monitorSelect,
    toggle('1:1', (on) => {
      fit = !on;
      canvas.classList.toggle('fit', fit);
    }),
    toggle('View only', (on) => {
      viewOnly = on;
    }),
    h('button', { type: 'button', onclick: () => !viewOnly && session.input(input.ctrlAltDel()) }, 'Ctrl+Alt+Del'),
    h('button', { type: 'button', onclick: () => keyboardInput.focus() }, 'Keyboard'),
    h('button', { type: 'button', onclick: () => session.refresh() }, 'Refresh'),
    h('button', { type: 'button', onclick: () => box.requestFullscreen?.() }, 'Full screen'),
    keyboardInput,
    rate,
  );

  /** Picture coordinates of a pointer event. @param {PointerEvent | WheelEvent} e */
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    const ox = area ? area.x : 0;
    const oy = area ? area.y : 0;
    return [ox + ((e.clientX - r.left) * canvas.width) / r.width, oy + ((e.clientY - r.top) * canvas.height) / r.height];
  };
  let lastMove = 0;
  canvas.addEventListener('pointermove', (e) => {
    if (viewOnly) return;
    const now = performance.now();
    if (now - lastMove < 16) return;
    lastMove = now;
    const [x, y] = at(e);
    session.input(input.pointer(x, y));
  });
  canvas.addEventListener('pointerdown', (e) => {
    canvas.focus();
    if (viewOnly) return;
    e.preventDefault();
    const [x, y] = at(e);
    session.input(input.pointer(x, y));
    session.input(input.button(BUTTONS[e.button] ?? 1, true));
  });
  canvas.addEventListener('pointerup', (e) => {
    if (viewOnly) return;
    e.preventDefault();
    session.input(input.button(BUTTONS[e.button] ?? 1, false));
  });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener(
    'wheel',
    (e) => {
      if (viewOnly) return;
      e.preventDefault();
      session.input(input.wheel(Math.sign(e.deltaX), Math.sign(e.deltaY)));
    },
    { passive: false },
  );
  /** Key codes sent down, to send up again. */
  const down = new Set();
  let shiftHeld = false;
  canvas.addEventListener('keydown', (e) => {
    if (viewOnly) return;
    e.preventDefault();
    if (e.key === 'Shift') {
      shiftHeld = true;
      return;
    }
    const chord = (e.ctrlKey || e.altKey || e.metaKey) && !e.getModifierState('AltGraph');
    const isModifier = ['Control', 'Alt', 'Meta', 'AltGraph'].includes(e.key);
    if (e.key.length === 1 && !chord && !isModifier) {
      session.input(input.text(e.key));
      return;
    }
    const code = input.x11KeyCode(e.code);
    if (code === null) return;
    if (shiftHeld && !down.has(50)) {
      session.input(input.key(50, true));
      down.add(50);
    }
    session.input(input.key(code, true));
    down.add(code);
  });
  canvas.addEventListener('keyup', (e) => {
    if (viewOnly) return;
    e.preventDefault();
    if (e.key === 'Shift') {
      shiftHeld = false;
      if (down.delete(50)) session.input(input.key(50, false));
      return;
    }
    const code = input.x11KeyCode(e.code);
    if (code !== null && down.delete(code)) session.input(input.key(code, false));
  });
  canvas.addEventListener('blur', () => {
    for (const code of down) session.input(input.key(code, false));
    down.clear();
  });

  let drawn = false;
  /** @type {{ x: number, y: number, w: number, h: number } | null} */
  let pending = null;
  let full = true;
  let lastUpdates = 0;
  let lastBytes = 0;
  let lastTick = performance.now();
  setInterval(() => {
    const now = performance.now();
    const secs = (now - lastTick) / 1000;
    const ups = (session.updates - lastUpdates) / secs;
    const kib = (session.screenBytes - lastBytes) / 1024 / secs;
    lastUpdates = session.updates;
    lastBytes = session.screenBytes;
    lastTick = now;
    rate.textContent = `${ups.toFixed(0)} updates/s · ${kib.toFixed(0)} KiB/s`;
  }, 1000);

  function paintNow() {
    const id = session.viewing;
    const d = id === null ? undefined : session.screens.get(id);
    if (!d || d.width === 0) return;
    const view = area && area.x + area.w <= d.width && area.y + area.h <= d.height ? area : { x: 0, y: 0, w: d.width, h: d.height };
    if (canvas.width !== view.w || canvas.height !== view.h) {
      canvas.width = view.w;
      canvas.height = view.h;
      pending = null;
      full = true;
    }
    // Several updates may land between two frames: paint their union (of
    // the part shown), the picture offset so the shown part starts at 0,0.
    const r = full || !pending ? view : pending;
    const x0 = Math.max(r.x, view.x);
    const y0 = Math.max(r.y, view.y);
    const x1 = Math.min(r.x + r.w, view.x + view.w);
    const y1 = Math.min(r.y + r.h, view.y + view.h);
    if (x1 > x0 && y1 > y0) ctx.putImageData(d.imageData(), -view.x, -view.y, x0, y0, x1 - x0, y1 - y0);
    pending = null;
    full = false;
    canvas.dataset.seq = String(d.lastSeq ?? '');
    if (!drawn) {
      drawn = true;
      overlay.textContent = '';
    }
  }

  return {
    toolbar,
    box,
    canvas,
    /** Note what an update changed, to paint it at the next frame. @param {{ x: number, y: number, w: number, h: number } | null} r */
    damage(r) {
      if (!r) return;
      if (!pending) pending = { ...r };
      else {
        const x1 = Math.max(pending.x + pending.w, r.x + r.w);
        const y1 = Math.max(pending.y + pending.h, r.y + r.h);
        pending.x = Math.min(pending.x, r.x);
        pending.y = Math.min(pending.y, r.y);
        pending.w = x1 - pending.x;
        pending.h = y1 - pending.y;
      }
    },
    /** Paint the decoded picture of the member being viewed. */
    paint: paintNow,
    /** The host's monitors changed: offer them. */
    monitors() {
      const list = session.viewing === null ? [] : session.monitors.get(session.viewing) ?? [];
      const chosen = monitorSelect.value;
      monitorSelect.replaceChildren(
        h('option', { value: '' }, 'All monitors'),
        ...list.map((m, i) => h('option', { value: String(i) }, `${m.name || `Monitor ${i + 1}`}${m.primary ? ' (primary)' : ''} ${m.rect.w}×${m.rect.h}`)),
      );
      monitorSelect.value = chosen !== '' && Number(chosen) < list.length ? chosen : '';
      area = monitorSelect.value === '' ? null : list[Number(monitorSelect.value)].rect;
    },
    /** @param {string} text */
    say(text) {
      overlay.textContent = text;
    },
  };
}
