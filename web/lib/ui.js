// @ts-check
/**
 * Small DOM helpers the pages share: element building, an announcer for
 * screen readers, and the chat panel.
 * @module
 */

import { check, describe, RestrictedDataError } from './restricted.js';

/**
 * Build an element: `h('button', { class: 'primary', onclick }, 'Text')`.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && k !== 'list' && k !== 'form') /** @type {any} */ (el)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Replace the children of `el`. @param {Element} el @param {...(Node | string)} children */
export function show(el, ...children) {
  el.replaceChildren(...children);
}

/** A status line: `good`, `warn` or `bad` (an alert). @param {string} kind @param {string} text */
export function banner(kind, text) {
  return h('p', { class: `banner ${kind}`, role: kind === 'bad' ? 'alert' : 'status', 'data-testid': 'banner' }, text);
}

/** A polite live region: what it says is read out by screen readers. */
export function announcer() {
  const region = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  document.body.append(region);
  return (/** @type {string} */ text) => {
    region.textContent = text;
  };
}

/** A labelled input. @param {string} id @param {string} text @param {Record<string, any>} attrs */
export function field(id, text, attrs) {
  const input = /** @type {HTMLInputElement} */ (h('input', { id, name: id, ...attrs }));
  return { input, nodes: [h('label', { for: id }, text), input] };
}

/**
 * The chat panel: a log and a form. `send` is called with the text after
 * the tenant's restricted-data policy (`policy()`: warn, mask or block) is
 * applied here, in the endpoint: the server never sees chat in clear.
 * Blocked text is not sent and stays in the box; warned or masked text is
 * sent with a note to the sender.
 * @param {(text: string) => Promise<void> | void} send
 * @param {() => string | undefined} [policy]
 */
export function chatPanel(send, policy = () => 'warn') {
  const log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat messages', 'data-testid': 'chat-log' });
  const input = /** @type {HTMLInputElement} */ (h('input', { id: 'chat-input', 'aria-label': 'Message', autocomplete: 'off', maxlength: 4000 }));
  const form = h(
    'form',
    {
      class: 'row',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        let checked;
        try {
          const chosen = policy();
          checked = check(chosen === 'mask' || chosen === 'block' ? chosen : 'warn', text);
        } catch (err) {
          if (!(err instanceof RestrictedDataError)) throw err;
          note(`Not sent: ${err.message}. Remove it and send again.`, 'alert');
          return;
        }
        input.value = '';
        await send(checked.text);
        if (checked.kinds.length > 0) {
          const what = checked.kinds.map(describe).join(', ');
          note(checked.text === text ? `Sent. Your message holds ${what}: avoid sharing such data in chat.` : `Sent with ${what} masked.`, 'status');
        }
      },
    },
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Send'),
  );
  /** @param {string} text @param {'alert' | 'status'} role */
  function note(text, role) {
    log.append(h('p', { class: `chat-note ${role === 'alert' ? 'bad' : 'warn'}`, role, 'data-testid': 'chat-note' }, text));
    log.scrollTop = log.scrollHeight;
  }
  const panel = h('section', { class: 'card', 'aria-labelledby': 'chat-title' }, h('h2', { id: 'chat-title' }, 'Chat'), log, form);
  return {
    panel,
    /** @param {string} who @param {string} text */
    add(who, text) {
      log.append(h('p', {}, h('span', { class: 'from' }, `${who}:`), text));
      log.scrollTop = log.scrollHeight;
    },
  };
}

/** Format a byte count. @param {number} n */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
