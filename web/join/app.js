// @ts-check
/**
 * The customer's join page: enter a code or open a link, see who asks for
 * what and consent (partly or not at all), chat, send files, share the
 * screen view-only from the browser, get the agent for full control, and
 * end at any moment. Errors say what happened: a wrong code, a session
 * that ended, a relay lost and being reconnected.
 * @module
 */

import * as api from '../lib/api.js';
import { cameraView } from './camera.js';
import { decode as decodeScreen } from '../lib/screen/wire.js';
import { ScreenShare } from '../lib/screen/share.js';
import { parseCode, parseLink } from '../lib/secret.js';
import { Endpoint } from '../lib/session/endpoint.js';
import { sessionIdFromHex } from '../lib/session/frames.js';
import { MAX_SCREEN_PIECE } from '../lib/session/messages.js';
import { Session } from '../lib/session/runtime.js';
import { dropZone, Transfers } from '../lib/transfer.js';
import { announcer, banner, bytes, chatPanel, field, h, show } from '../lib/ui.js';
import { sessionEvent } from './events.js';

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
const active = /** @type {HTMLElement} */ (document.getElementById('active'));
const say = announcer();

const WHAT = /** @type {Record<string, string>} */ ({
  view: 'see your screen',
  control: 'control your mouse and keyboard',
  files: 'send and receive files',
  diagnostics: 'read system information (diagnostics)',
  clipboard: 'use your clipboard',
});
/** What this page itself can give; the rest needs the Fernhand app. */
const IN_BROWSER = ['view', 'files'];


/** @param {string} [error] */
function codeForm(error) {
  const code = field('code', 'Code from your support expert', { inputmode: 'numeric', autocomplete: 'off', placeholder: '123 456 789 012', required: true });
  const problem = h('p', { class: 'error', role: 'alert' }, error ?? '');
  const f = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        try {
          join(parseCode(code.input.value));
        } catch (err) {
          problem.textContent = 'A code has 12 digits, for example 123 456 789 012.';
        }
      },
    },
    h('h2', {}, 'Join a support session'),
    ...code.nodes,
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Join')),
    problem,
    h('p', { class: 'muted' }, 'Nothing happens on your computer until you allow it, and you can stop at any moment.'),
  );
  show(app, f);
  code.input.focus();
}

/** @param {import('../lib/secret.js').JoinSecret} secret */
async function join(secret) {
  show(app, banner('warn', 'Connecting…'));
  let answer;
  try {
    answer = await api.call('POST', '/api/v1/join', { locator: secret.locator });
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 404) return codeForm('No session has this code or link (it may have been used already or expired). Check it, or ask your expert for a new one.');
    if (e instanceof api.ApiError && e.status === 409) return codeForm(e.message);
    if (e instanceof api.ApiError && e.status === 429) return codeForm('Too many attempts. Wait a minute and try again.');
    return codeForm(e instanceof Error ? e.message : String(e));
  }
  const endpoint = Endpoint.joiner(sessionIdFromHex(answer.session), answer.member, answer.leader, secret.identity, secret.secret);
  const policy = typeof answer.restricted_policy === 'string' ? answer.restricted_policy : 'warn';
  const view = answer.kind === 'camera' ? cameraView(app, active, { iceServers: Array.isArray(answer.ice_servers) ? answer.ice_servers : [], chatPolicy: policy }) : sessionView(secret, policy);
  const runtime = new Session(endpoint, answer.grant, (e) => view.event(e));
  view.attach(runtime, answer.leader, answer.grant);
  try {
    await runtime.start();
  } catch (e) {
    view.fail(`The connection could not be made: ${e instanceof Error ? e.message : e}`);
  }
}

/** @param {import('../lib/secret.js').JoinSecret} secret @param {string} policy */
function sessionView(secret, policy) {
  /** @type {Session | null} */
  let runtime = null;
  let leader = 1;
  let granted = /** @type {string[]} */ ([]);
  /** @type {ScreenShare | null} */
  let share = null;
  let over = false;
  const state = h('div', {}, banner('warn', 'Connecting securely…'));
  const consent = h('section', { class: 'card', 'aria-labelledby': 'consent-title', hidden: true, 'data-testid': 'consent' });
  const chat = chatPanel(async (text) => {
    chat.add('You', text);
    await runtime?.send(0, { type: 'chat', text });
  }, () => policy);
  const transfers = h('div', { 'data-testid': 'transfers' });
  const fileInput = /** @type {HTMLInputElement} */ (h('input', { type: 'file', multiple: true, id: 'file-pick', class: 'visually-hidden' }));
  const zone = h('div', { class: 'dropzone', 'data-testid': 'dropzone' }, h('p', {}, 'Drop files here to send them to your expert'), h('label', { for: 'file-pick', class: 'button' }, 'Choose files…'), fileInput);
  const shareButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', disabled: true, 'data-testid': 'share-screen' }, 'Share my screen (view only)'));
  const endButton = h('button', { type: 'button', class: 'danger', 'data-testid': 'end' }, 'End session');
  const code = secret.kind === 'code' ? `${secret.locator}${new TextDecoder().decode(secret.secret)}` : location.href;
  const download = h('p', {});
  const command = h('p', { class: 'mono' }, `fernhand agent join ${code} --server ${location.origin}`);
  const agent = h(
    'section',
    { class: 'card', 'aria-labelledby': 'agent-title' },
    h('h2', { id: 'agent-title' }, 'Full remote control'),
    h('p', {}, 'For control, diagnostics and clipboard, download the Fernhand app, start it, and join with the same code:'),
    download,
    command,
  );
  api
    .call('GET', '/web/platform.json')
    .then((/** @type {{ agent: string, platform: string }} */ p) => {
      const file = `fernhand-${p.platform}`;
      show(download, h('a', { href: p.agent, download: file, class: 'button', 'data-testid': 'download-agent' }, `Download the app (${p.platform})`));
      command.textContent = `chmod +x ${file} && ./${file} agent join ${code} --server ${location.origin}`;
    })
    .catch(() => {});
  /** @type {Transfers | null} */
  let files = null;
  /** @type {Map<object, HTMLElement>} */
  const rows = new Map();
  const drawTransfer = (/** @type {import('../lib/transfer.js').Transfer} */ t) => {
    let row = rows.get(t);
    if (!row) {
      row = h('div', { 'data-testid': 'transfer' });
      rows.set(t, row);
      transfers.append(row);
    }
    const parts = [h('span', { 'data-state': t.state }, `${t.direction === 'out' ? 'Sending' : 'Receiving'} ${t.name} (${bytes(t.size)}): ${t.state}${t.error ? ` — ${t.error}` : ''}`), h('progress', { max: Math.max(1, t.size), value: t.done })];
    if (t.blob && t.state === 'done') parts.push(h('a', { href: URL.createObjectURL(t.blob), download: t.name, class: 'button' }, `Save ${t.name}`));
    show(row, ...parts);
  };
  const sendFiles = (/** @type {File[]} */ list) => {
    if (!granted.includes('files')) {
      say('Allow files first.');
      return;
    }
    for (const f of list) files?.send(leader, f);
  };
  dropZone(zone, sendFiles);
  fileInput.addEventListener('change', () => sendFiles([...(fileInput.files ?? [])]));

  const finish = (/** @type {string} */ text, kind = 'warn') => {
    over = true;
    share?.stop();
    share = null;
    active.hidden = true;
    show(state, banner(kind, text));
    endButton.setAttribute('disabled', '');
    shareButton.disabled = true;
    consent.hidden = true;
    say(text);
  };
  endButton.addEventListener('click', async () => {
    await runtime?.send(0, { type: 'control', value: { type: 'end', reason: 'the customer ended the session' } });
    await runtime?.close('ended by the customer');
    finish('You ended the session. Nothing more is shared.', 'good');
  });
  shareButton.addEventListener('click', async () => {
    if (share) {
      share.stop();
      share = null;
      shareButton.textContent = 'Share my screen (view only)';
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      share = new ScreenShare(stream, (update) => {
        for (let at = 0; at < update.length; at += MAX_SCREEN_PIECE) {
          runtime?.send(leader, { type: 'screen', last: at + MAX_SCREEN_PIECE >= update.length, data: update.subarray(at, Math.min(update.length, at + MAX_SCREEN_PIECE)) });
        }
      });
      await share.start();
      shareButton.textContent = 'Stop sharing';
      say('Your screen is being shared, view only.');
    } catch (e) {
      say('Screen sharing was not started.');
    }
  });

  const grant = (/** @type {string[]} */ list) => {
    granted = list;
    runtime?.send(0, { type: 'control', value: { type: 'granted', permissions: list } });
    shareButton.disabled = !list.includes('view');
    if (!list.includes('view') && share) {
      share.stop();
      share = null;
    }
  };

  const askConsent = (/** @type {string} */ expert, /** @type {string[]} */ permissions) => {
    const boxes = permissions.map((p) => {
      const id = `allow-${p}`;
      const possible = IN_BROWSER.includes(p);
      const box = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id, value: p, checked: possible, disabled: !possible }));
      return { box, row: h('div', { class: 'check' }, box, h('label', { for: id }, `${WHAT[p] ?? p}${possible ? '' : ' (needs the Fernhand app)'}`)) };
    });
    show(
      consent,
      h('h2', { id: 'consent-title' }, `${expert} asks to connect`),
      h('p', {}, 'Choose what to allow. You can take it back or end the session at any time.'),
      ...boxes.map((b) => b.row),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            'data-testid': 'allow',
            onclick: () => {
              grant(boxes.filter((b) => b.box.checked && !b.box.disabled).map((b) => b.box.value));
              consent.hidden = true;
              show(state, banner('good', `Connected to ${expert}. End-to-end encrypted.`));
              active.hidden = false;
            },
          },
          'Allow selected',
        ),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              grant([]);
              consent.hidden = true;
              show(state, banner('warn', `You allowed nothing. You can still chat with ${expert}.`));
              active.hidden = false;
            },
          },
          'Allow nothing',
        ),
      ),
    );
    consent.hidden = false;
    say(`${expert} asks to connect`);
  };

  show(
    app,
    state,
    consent,
    h('div', { class: 'row' }, endButton, shareButton, h('button', { type: 'button', onclick: () => grant([]) }, 'Withdraw all permissions')),
    h('div', { class: 'session-layout' }, h('div', { class: 'side' }, chat.panel), h('div', { class: 'side' }, h('section', { class: 'card', 'aria-labelledby': 'files-title' }, h('h2', { id: 'files-title' }, 'Files'), zone, transfers), agent)),
  );

  /** @type {import('./events.js').CustomerPage} */
  const page = {
    status: (n) => show(state, n),
    finish,
    close: (why) => runtime?.close(why),
    what: 'session',
    wrongSecret: 'The code is not right. Check it with your expert.',
  };

  return {
    /** @param {Session} r @param {number} l @param {string} grant */
    attach(r, l, grant) {
      runtime = r;
      leader = l;
      files = new Transfers(
        {
          send: (to, m) => r.send(to, m),
          get backlog() {
            return r.backlog;
          },
        },
        drawTransfer,
        {
          policy: () => policy,
          onThreat: (threat, sha256) => api.reportSessionEvent(grant, { kind: 'malware_quarantined', threat, sha256 }),
        },
      );
    },
    /** @param {string} text */
    fail(text) {
      finish(text, 'bad');
    },
    /** @param {import('../lib/session/runtime.js').SessionEvent} e */
    event(e) {
      if (over) return;
      if (sessionEvent(e, page)) return;
      switch (e.type) {
        case 'roster':
          // The session may have been handed over to another expert.
          leader = e.roster.leader;
          break;
        case 'received': {
          const m = e.message;
          if (files?.handle(e.from, m)) {
            if (m.type === 'file_offer' && !granted.includes('files')) {
              // Refused before any byte moved: the user has not allowed files.
              runtime?.send(e.from, { type: 'control', value: { type: 'file_error', id: m.id, error: 'files are not allowed' } });
            }
            break;
          }
          if (m.type === 'chat') chat.add(e.from === leader ? 'Expert' : `Member ${e.from}`, m.text);
          else if (m.type === 'screen' && share) {
            decodeScreen(m.data)
              .then((s) => {
                if (s.kind === 'ack') share?.onAck(s.seq);
                else if (s.kind === 'refresh') share?.onRefresh();
              })
              .catch(() => {});
          } else if (m.type === 'control') {
            const v = m.value;
            if (v.type === 'request' && e.from === leader && typeof v.expert === 'string' && Array.isArray(v.permissions)) {
              askConsent(v.expert.slice(0, 200), v.permissions.filter((/** @type {unknown} */ p) => typeof p === 'string' && p in WHAT));
            } else if (v.type === 'end' && e.from === leader) {
              finish('Your expert ended the session. Nothing more is shared.', 'good');
              runtime?.close('ended by the expert');
            } else if (v.type !== 'granted') {
              runtime?.send(e.from, { type: 'control', value: { type: 'denied', what: String(v.type).slice(0, 64), reason: 'not available in the browser' } });
            }
          }
          break;
        }
        default:
          break;
      }
    },
  };
}

// A link carries its secret after '#', which the browser never sends to the server.
if (location.pathname.startsWith('/join/') && location.hash.length > 1) {
  try {
    const secret = parseLink(location.href);
    history.replaceState(null, '', '/join');
    join(secret);
  } catch {
    codeForm('This link is incomplete. Ask your expert for a new one, or enter the code.');
  }
} else {
  codeForm();
}
