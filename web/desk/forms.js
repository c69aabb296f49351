// @ts-check
/**
 * Forms of the server-rendered desk and portal pages. Each form names the
 * API call it makes — `data-api="POST /api/v1/desk/records"` — and where
 * to go after — `data-next="/desk/{reference}"`, filled from the answer.
 * Its fields become the JSON body: `fields.title` nests, `data-type=number`
 * sends a number, `data-type=lines` a list of the non-empty lines,
 * `data-type=time` a date and time as Unix seconds, a checkbox a boolean,
 * and empty fields are left out. An answer's one-time value put in the
 * next page's fragment (`#once={receipt}`) is shown in its `[data-once]`
 * element and taken out of the address. The
 * call goes through the API with the tab's CSRF token, so the pages have
 * no write path of their own; an error is shown in the form's alert line.
 * @module
 */

import * as api from '../lib/api.js';

/** The JSON body a form's fields make. @param {HTMLFormElement} form */
export function bodyOf(form) {
  /** @type {Record<string, any>} */
  const body = {};
  for (const el of Array.from(form.elements)) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) continue;
    if (!el.name) continue;
    /** @type {any} */
    let value;
    if (el instanceof HTMLInputElement && el.type === 'checkbox') value = el.checked;
    else if (el.value.trim() === '') continue;
    else if (el.dataset.type === 'number') value = Number(el.value);
    else if (el.dataset.type === 'lines') value = el.value.split('\n').map((l) => l.trim()).filter(Boolean);
    else if (el.dataset.type === 'time') value = Math.floor(new Date(el.value).getTime() / 1000);
    else value = el.value;
    const path = el.name.split('.');
    let at = body;
    for (const key of path.slice(0, -1)) at = at[key] ??= {};
    at[path[path.length - 1]] = value;
  }
  return body;
}

/** `/desk/{reference}` with the answer's values. @param {string} pattern @param {any} answer */
export function nextOf(pattern, answer) {
  return pattern.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(String(answer?.[k] ?? '')));
}

/**
 * Send the form: its fields as JSON, or — for a form with a file input —
 * each chosen file as the raw body, named in the query.
 * @param {HTMLFormElement} form @param {string} method @param {string} path
 */
async function send(form, method, path) {
  const file = /** @type {HTMLInputElement | null} */ (form.querySelector('input[type=file]'));
  if (!file) return api.call(method, path, bodyOf(form));
  const files = Array.from(file.files ?? []);
  if (!files.length) throw new Error('Choose a file first.');
  const extra = new URLSearchParams(/** @type {Record<string, string>} */ (Object.fromEntries(Object.entries(bodyOf(form)).map(([k, v]) => [k, String(v)]))));
  let answer = null;
  for (const f of files) {
    extra.set('name', f.name);
    answer = await api.call(method, `${path}?${extra}`, f);
  }
  return answer;
}

/** @param {HTMLFormElement} form */
function enhance(form) {
  const [method, path] = (form.dataset.api ?? '').split(' ');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const alert = form.querySelector('[role=alert]');
    if (alert) alert.textContent = '';
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    try {
      const answer = await send(form, method, path);
      const next = new URL(nextOf(form.dataset.next ?? location.pathname, answer), location.href);
      if (next.pathname === location.pathname && next.search === location.search && next.hash) {
        // Only the fragment differs: assigning would not load the page again.
        location.hash = next.hash;
        location.reload();
      } else {
        location.assign(next.href);
      }
    } catch (err) {
      // Signed out, or a tab without this session's CSRF token: sign in here.
      if (err instanceof api.ApiError && (err.status === 401 || (err.status === 403 && /CSRF/.test(err.message)))) {
        location.assign(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      if (alert) alert.textContent = err instanceof Error ? err.message : String(err);
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

for (const form of Array.from(document.querySelectorAll('form[data-api]'))) enhance(/** @type {HTMLFormElement} */ (form));

const once = document.querySelector('[data-once]');
const shown = location.hash.match(/^#once=([A-Za-z0-9_-]+)$/);
if (once && shown) {
  const code = once.querySelector('code');
  if (code) code.textContent = shown[1];
  once.removeAttribute('hidden');
  history.replaceState(null, '', location.pathname + location.search);
}
