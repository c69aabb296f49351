// @ts-check
/**
 * Input events (docs/protocol.md §7.4) and the map from the browser's
 * physical key codes (`KeyboardEvent.code`) to the host's X11 key codes
 * (Linux evdev code + 8).
 * @module
 */

import { concat, u16, u32, utf8 } from '../bytes.js';

/** @param {number} v */
const i32 = (v) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, v);
  return out;
};

/** @param {number} x @param {number} y */
export function pointer(x, y) {
  return concat(new Uint8Array([0x01]), i32(Math.round(x)), i32(Math.round(y)));
}

/** Buttons: 1 left, 2 middle, 3 right, 8 back, 9 forward. @param {number} button @param {boolean} down */
export function button(button, down) {
  return new Uint8Array([0x02, button, down ? 1 : 0]);
}

/** Wheel notches (dy > 0: down). @param {number} dx @param {number} dy */
export function wheel(dx, dy) {
  const clamp = (/** @type {number} */ v) => Math.max(-32768, Math.min(32767, Math.round(v)));
  return concat(new Uint8Array([0x03]), u16(clamp(dx) & 0xffff), u16(clamp(dy) & 0xffff));
}

/** @param {number} code @param {boolean} down */
export function key(code, down) {
  return concat(new Uint8Array([0x04]), u32(code), new Uint8Array([down ? 1 : 0]));
}

export const MODIFIERS = /** @type {const} */ ({ shift: 1, control: 2, alt: 3, super: 4 });

/** @param {number} modifier @param {boolean} down */
export function modifier(modifier, down) {
  return new Uint8Array([0x05, modifier, down ? 1 : 0]);
}

/** Text typed whatever the keyboard layout (1–1024 bytes). @param {string} text */
export function text(text) {
  const bytes = utf8(text);
  if (bytes.length < 1 || bytes.length > 1024) throw new RangeError('text must be 1 to 1024 bytes');
  return concat(new Uint8Array([0x06]), bytes);
}

export function ctrlAltDel() {
  return new Uint8Array([0x07, 0x01]);
}

/** Linux evdev codes by `KeyboardEvent.code`. */
const EVDEV = /** @type {Record<string, number>} */ ({
  Escape: 1, Digit1: 2, Digit2: 3, Digit3: 4, Digit4: 5, Digit5: 6, Digit6: 7, Digit7: 8, Digit8: 9, Digit9: 10, Digit0: 11,
  Minus: 12, Equal: 13, Backspace: 14, Tab: 15, KeyQ: 16, KeyW: 17, KeyE: 18, KeyR: 19, KeyT: 20, KeyY: 21, KeyU: 22,
  KeyI: 23, KeyO: 24, KeyP: 25, BracketLeft: 26, BracketRight: 27, Enter: 28, ControlLeft: 29, KeyA: 30, KeyS: 31,
  KeyD: 32, KeyF: 33, KeyG: 34, KeyH: 35, KeyJ: 36, KeyK: 37, KeyL: 38, Semicolon: 39, Quote: 40, Backquote: 41,
  ShiftLeft: 42, Backslash: 43, KeyZ: 44, KeyX: 45, KeyC: 46, KeyV: 47, KeyB: 48, KeyN: 49, KeyM: 50, Comma: 51,
  Period: 52, Slash: 53, ShiftRight: 54, NumpadMultiply: 55, AltLeft: 56, Space: 57, CapsLock: 58, F1: 59, F2: 60,
  F3: 61, F4: 62, F5: 63, F6: 64, F7: 65, F8: 66, F9: 67, F10: 68, NumLock: 69, ScrollLock: 70, Numpad7: 71,
  Numpad8: 72, Numpad9: 73, NumpadSubtract: 74, Numpad4: 75, Numpad5: 76, Numpad6: 77, NumpadAdd: 78, Numpad1: 79,
  Numpad2: 80, Numpad3: 81, Numpad0: 82, NumpadDecimal: 83, IntlBackslash: 86, F11: 87, F12: 88, NumpadEnter: 96,
  ControlRight: 97, NumpadDivide: 98, PrintScreen: 99, AltRight: 100, Home: 102, ArrowUp: 103, PageUp: 104,
  ArrowLeft: 105, ArrowRight: 106, End: 107, ArrowDown: 108, PageDown: 109, Insert: 110, Delete: 111, Pause: 119,
  MetaLeft: 125, MetaRight: 126, ContextMenu: 127,
});

/** The X11 key code for a browser key code, or null. @param {string} code */
export function x11KeyCode(code) {
  const evdev = EVDEV[code];
  return evdev === undefined ? null : evdev + 8;
}
