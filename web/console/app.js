// @ts-check
/**
 * The expert console: sign-in (password, first-time password change,
 * second factor), the dashboard (my sessions, my tenant's devices, MFA
 * set-up), and the session view (code and link to give, the remote screen,
 * chat, files with drag and drop, diagnostics, end).
 * @module
 */

import * as api from '../lib/api.js';
import { announcer, bytes, chatPanel, field, h, show } from '../lib/ui.js';
import { dropZone } from '../lib/transfer.js';
import { cameraPage } from './camera.js';
import { ExpertSession } from './expert.js';
import { viewer } from './viewer.js';

const app = /** @type {HTMLElement} */ (document.getElementById('app'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));
const signOutButton = /** @type {HTMLButtonElement} */ (document.getElementById('sign-out'));
const say = announcer();
/** @type {{ name: string, email: string, role: string } | null} */
let me = null;

/** @param {unknown} e */
function message(e) {
  if (e instanceof api.ApiError) {
    if (e.status === 401) return 'Wrong tenant, e-mail or password.';
    if (e.status === 429) return 'Too many attempts. Wait a minute and try again.';
    return e.message;
  }
  return String(e instanceof Error ? e.message : e);
}

/** @param {string} title @param {...Node} body */
function page(title, ...body) {
  document.title = `${title} — Fernhand`;
  show(app, ...body);
  app.focus();
}

/** A form with an error line; `submit` runs with the error cleared. @param {string} title @param {Node[]} fields @param {string} action @param {() => Promise<void>} submit */
function form(title, fields, action, submit) {
  const error = h('p', { class: 'error', role: 'alert' });
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary' }, action));
  const f = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        error.textContent = '';
        button.disabled = true;
        try {
          await submit();
        } catch (err) {
          error.textContent = message(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h2', {}, title),
    ...fields,
    h('p', {}, button),
    error,
  );
  return f;
}

function signIn() {
  signOutButton.hidden = true;
  who.textContent = '';
  const tenant = field('tenant', 'Tenant', { value: 'default', autocomplete: 'organization', required: true });
  const email = field('email', 'E-mail', { type: 'email', autocomplete: 'username', required: true });
  const password = field('password', 'Password', { type: 'password', autocomplete: 'current-password', required: true });
  page(
    'Sign in',
    form('Sign in', [...tenant.nodes, ...email.nodes, ...password.nodes], 'Sign in', async () => {
      const answer = await api.signIn(tenant.input.value.trim(), email.input.value.trim(), password.input.value);
      if (answer.mfa_required) return secondFactor(answer);
      if (answer.password_change_required) return changePassword(password.input.value);
      await enter();
    }),
  );
  email.input.focus();
}

/** @param {any} answer */
function secondFactor(answer) {
  const code = field('mfa-code', 'Code from your authenticator app (or a recovery code)', { inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
  page(
    'Second factor',
    form('Second factor', code.nodes, 'Verify', async () => {
      const value = code.input.value.trim();
      try {
        await api.call('POST', '/api/v1/auth/mfa/verify', /^\d{6}$/.test(value) ? { code: value } : { recovery_code: value });
      } catch (e) {
        if (e instanceof api.ApiError && (e.status === 401 || e.status === 422)) {
          throw new Error('That code is not valid. Enter the code your app shows now.');
        }
        throw e;
      }
      if (answer.password_change_required) return changePassword(null);
      await enter();
    }),
  );
  code.input.focus();
}

/** @param {string | null} current */
function changePassword(current) {
  const old = field('current-password', 'Current (one-time) password', { type: 'password', autocomplete: 'current-password', required: true, value: current ?? '' });
  const fresh = field('new-password', 'New password (at least 12 characters)', { type: 'password', autocomplete: 'new-password', minlength: 12, required: true });
  page(
    'Choose a password',
    form('Choose your own password', [...old.nodes, ...fresh.nodes], 'Save password', async () => {
      await api.call('POST', '/api/v1/me/password', { current: old.input.value, new: fresh.input.value });
      await enter();
    }),
  );
  fresh.input.focus();
}

async function enter() {
  const answer = await api.call('GET', '/api/v1/me');
  if (answer.mfa_outstanding) return secondFactor({});
  me = answer.user;
  if (me?.role === 'requester') {
    location.assign('/portal');
    return;
  }
  who.textContent = `${answer.user.name} (${answer.user.email})`;
  signOutButton.hidden = false;
  const asked = new URLSearchParams(location.search);
  if (asked.size) history.replaceState(null, '', '/');
  const next = asked.get('next');
  if (next && /^\/(desk|portal)(\/|\?|$)/.test(next)) {
    location.assign(next);
    return;
  }
  const record = asked.get('desk');
  if (record) return deskSession(record);
  const cameraFor = asked.get('camera');
  if (cameraFor) return cameraShare({ record: cameraFor });
  const device = asked.get('device');
  if (device) {
    try {
      return connectDevice(await api.call('GET', `/api/v1/devices/${encodeURIComponent(device)}`));
    } catch (e) {
      say(message(e));
    }
  }
  await dashboard(answer);
}

/** Start a remote session from a desk record (the desk's "Start remote session"). @param {string} record */
async function deskSession(record) {
  /** @type {ReturnType<typeof sessionPage> | null} */
  let view = null;
  try {
    const s = await ExpertSession.openForRecord(record, me?.name ?? 'An expert', (_s, what) => view?.update(what));
    view = sessionPage(s);
  } catch (e) {
    page(
      'Session',
      h('section', { class: 'card narrow', role: 'alert' }, h('h2', {}, 'The session did not start'), h('p', {}, message(e)), h('a', { class: 'button', href: `/desk/${encodeURIComponent(record)}` }, 'Back to the record')),
    );
  }
}

/**
 * Start a camera share (from the dashboard, or a desk record's "Camera share").
 * @param {{ record?: string, relayOnly?: boolean }} o
 */
async function cameraShare(o) {
  /** @type {ReturnType<typeof cameraPage> | null} */
  let view = null;
  try {
    const s = await ExpertSession.openCamera(me?.name ?? 'An expert', (_s, what) => view?.update(what), o);
    document.title = 'Camera share — Fernhand';
    view = cameraPage(app, s);
  } catch (e) {
    page(
      'Camera share',
      h('section', { class: 'card narrow', role: 'alert' }, h('h2', {}, 'The camera share did not start'), h('p', {}, message(e)), o.record ? h('a', { class: 'button', href: `/desk/${encodeURIComponent(o.record)}` }, 'Back to the record') : null),
    );
  }
}

signOutButton.addEventListener('click', async () => {
  await api.signOut().catch(() => {});
  signIn();
});

/** @param {any} meAnswer */
async function dashboard(meAnswer) {
  const error = h('p', { class: 'error', role: 'alert' });
  const start = h('button', { type: 'button', class: 'primary', 'data-testid': 'start-session' }, 'Start a session');
  start.addEventListener('click', async () => {
    error.textContent = '';
    try {
      /** @type {ReturnType<typeof sessionPage> | null} */
      let view = null;
      const s = await ExpertSession.open(me?.name ?? 'An expert', (_s, what) => view?.update(what));
      view = sessionPage(s);
    } catch (e) {
      error.textContent = message(e);
    }
  });
  const relayOnly = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'camera-relay-only' }));
  const camera = h('button', { type: 'button', 'data-testid': 'start-camera', onclick: () => cameraShare({ relayOnly: relayOnly.checked }) }, 'Camera share');
  const colleagueError = h('p', { class: 'error', role: 'alert' });
  const colleagueLink = field('colleague-link', "Code or link of a colleague's session", { autocomplete: 'off', required: true });
  const colleague = h(
    'form',
    {
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        colleagueError.textContent = '';
        try {
          /** @type {ReturnType<typeof sessionPage> | null} */
          let view = null;
          const s = await ExpertSession.joinColleague(colleagueLink.input.value, me?.name ?? 'An expert', (_s, what) => view?.update(what));
          view = sessionPage(s);
        } catch (err) {
          colleagueError.textContent = err instanceof api.ApiError && err.status === 404 ? 'No session has this code or link.' : message(err);
        }
      },
    },
    ...colleagueLink.nodes,
    h('p', {}, h('button', { type: 'submit' }, 'Join as a second expert')),
    colleagueError,
  );
  const sessions = h('tbody');
  const devices = h('tbody');
  const mfa = meAnswer.mfa_enabled
    ? h('p', { class: 'ok' }, 'Two-factor sign-in is on.')
    : h('button', { type: 'button', onclick: () => mfaSetup() }, 'Turn on two-factor sign-in');
  page(
    'Dashboard',
    h('section', { class: 'card', 'aria-labelledby': 'new-title' }, h('h2', { id: 'new-title' }, 'Help someone now'), h('p', {}, 'Start a session and give the customer its code or link.'), h('div', { class: 'row' }, start, camera), h('div', { class: 'check' }, relayOnly, h('label', { for: 'camera-relay-only' }, 'Camera share through our TURN service only (neither side sees the other’s address)')), error),
    h('section', { class: 'card', 'aria-labelledby': 'colleague-title' }, h('h2', { id: 'colleague-title' }, 'Help a colleague'), h('p', {}, 'The expert who leads the session decides what you may see and do.'), colleague),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'devices-title' },
      h('h2', { id: 'devices-title' }, 'Unattended devices'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Device'), h('th', {}, 'System'), h('th', {}, 'Status'), h('th', {}, 'Last seen'), h('th', {}, ''))), devices),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title' }, 'My sessions'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Started'), h('th', {}, 'State'), h('th', {}, 'Outcome'))), sessions),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'security-title' },
      h('h2', { id: 'security-title' }, 'Security'),
      mfa,
      meAnswer.user?.role === 'tenant_admin' ? h('p', {}, h('a', { class: 'button', href: '/privacy', 'data-testid': 'privacy-link' }, 'Data protection: export, deletion, retention')) : null,
    ),
  );
  try {
    const list = await api.call('GET', '/api/v1/devices');
    if (!list.length) devices.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No devices enrolled yet.')));
    for (const d of list) {
      const seen = d.last_seen ? new Date(d.last_seen * 1000).toLocaleString() : '—';
      devices.append(
        h(
          'tr',
          {},
          h('td', {}, d.name),
          h('td', {}, d.os),
          h('td', {}, h('span', { class: `status-dot ${d.online ? 'online' : 'offline'}`, 'aria-hidden': 'true' }), d.online ? 'online' : 'offline'),
          h('td', {}, seen),
          h('td', {}, h('button', { type: 'button', disabled: !d.online, onclick: () => connectDevice(d) }, 'Connect')),
        ),
      );
    }
  } catch (e) {
    devices.append(h('tr', {}, h('td', { colspan: 5, class: 'error' }, message(e))));
  }
  try {
    const list = await api.call('GET', '/api/v1/sessions');
    for (const s of list.slice(0, 20)) {
      sessions.append(h('tr', {}, h('td', {}, new Date(s.created_at * 1000).toLocaleString()), h('td', {}, s.state), h('td', {}, s.outcome ?? '')));
    }
    if (!list.length) sessions.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No sessions yet.')));
  } catch (e) {
    sessions.append(h('tr', {}, h('td', { colspan: 3, class: 'error' }, message(e))));
  }
}

/** @param {any} device */
function connectDevice(device) {
  const password = field('device-password', `Access password of ${device.name}`, { type: 'password', autocomplete: 'off', required: true });
  page(
    'Connect',
    form(`Connect to ${device.name}`, password.nodes, 'Connect', async () => {
      /** @type {ReturnType<typeof sessionPage> | null} */
      let view = null;
      const s = await ExpertSession.connectDevice(device.id, password.input.value, me?.name ?? 'An expert', (_s, what) => view?.update(what));
      view = sessionPage(s);
    }),
  );
  password.input.focus();
}

async function mfaSetup() {
  const setup = await api.call('POST', '/api/v1/auth/mfa/setup', {});
  const code = field('mfa-confirm', 'Code shown by the app', { inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
  page(
    'Two-factor sign-in',
    form(
      'Turn on two-factor sign-in',
      [
        h('p', {}, 'Add this secret to your authenticator app, then enter the code it shows.'),
        h('p', { class: 'mono', 'data-testid': 'mfa-secret' }, setup.secret),
        h('p', { class: 'mono muted' }, setup.otpauth_url),
        ...code.nodes,
      ],
      'Turn on',
      async () => {
        const answer = await api.call('POST', '/api/v1/auth/mfa/confirm', { setup_token: setup.setup_token, code: code.input.value.trim() });
        page(
          'Recovery codes',
          h(
            'section',
            { class: 'card narrow' },
            h('h2', {}, 'Two-factor sign-in is on'),
            h('p', {}, 'Keep these recovery codes somewhere safe; each works once.'),
            h('pre', { class: 'mono' }, (answer.recovery_codes ?? []).join('\n')),
            h('button', { type: 'button', class: 'primary', onclick: () => enter() }, 'Done'),
          ),
        );
      },
    ),
  );
  code.input.focus();
}

/** @param {ExpertSession} s */
function sessionPage(s) {
  const status = h('p', { 'data-testid': 'session-status', role: 'status' }, 'Connecting…');
  const give = s.code
    ? h(
        'section',
        { class: 'card', 'aria-labelledby': 'give-title' },
        h('h2', { id: 'give-title' }, 'Give the customer'),
        h('p', {}, 'Code: ', h('span', { class: 'code', 'data-testid': 'join-code' }, s.code)),
        h('p', {}, 'Link: ', h('a', { href: s.link, class: 'mono', 'data-testid': 'join-link', target: '_blank', rel: 'noopener' }, s.link)),
        h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(s.link) }, 'Copy link'),
      )
    : null;
  const fromDesk = s.desk
    ? h(
        'section',
        { class: 'card', 'aria-labelledby': 'desk-title' },
        h('h2', { id: 'desk-title' }, 'From the service desk'),
        h('p', {}, 'This session is linked to ', h('a', { href: `/desk/${encodeURIComponent(s.desk.reference)}`, 'data-testid': 'desk-record' }, s.desk.reference), '; its record is attached there when it ends.'),
        s.desk.email && s.link
          ? h(
              'p',
              {},
              h(
                'a',
                {
                  class: 'button',
                  'data-testid': 'mail-link',
                  href: `mailto:${encodeURIComponent(s.desk.email)}?subject=${encodeURIComponent(`Remote support for ${s.desk.reference}`)}&body=${encodeURIComponent(`Please open this link to let me help you on your computer:\n\n${s.link}\n\nOr open ${location.origin}/join and enter the code ${s.code}.`)}`,
                },
                `E-mail the link to ${s.desk.email}`,
              ),
            )
          : null,
        h('p', { 'data-testid': 'desk-attached', role: 'status' }),
      )
    : null;
  const screen = viewer(s);
  const chat = chatPanel((text) => s.say(text), () => s.chatPolicy);
  let chatShown = 0;
  const members = h('ul', { 'data-testid': 'members' });
  const transfers = h('div', { 'data-testid': 'transfers' });
  const fileInput = /** @type {HTMLInputElement} */ (h('input', { type: 'file', multiple: true, id: 'file-pick', class: 'visually-hidden' }));
  const zone = h(
    'div',
    { class: 'dropzone', 'data-testid': 'dropzone' },
    h('p', {}, 'Drop files here to send them to the customer'),
    h('label', { for: 'file-pick', class: 'button' }, 'Choose files…'),
    fileInput,
  );
  const sendAll = (/** @type {File[]} */ files) => files.forEach((f) => s.sendFile(f).catch((e) => say(message(e))));
  dropZone(zone, sendAll);
  fileInput.addEventListener('change', () => sendAll([...(fileInput.files ?? [])]));
  const report = h('pre', { class: 'report', 'data-testid': 'diagnostics', hidden: true });
  const end = h('button', { type: 'button', class: 'danger', 'data-testid': 'end-session' }, 'End session');
  end.addEventListener('click', () => s.end());
  page(
    'Session',
    h('div', { class: 'row' }, h('h2', {}, 'Session'), status, end),
    give ?? h('span'),
    fromDesk ?? h('span'),
    h(
      'div',
      { class: 'session-layout' },
      h('section', { 'aria-label': 'Remote screen' }, screen.toolbar, screen.box),
      h(
        'div',
        { class: 'side' },
        h('section', { class: 'card', 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title' }, 'People'), members),
        chat.panel,
        h('section', { class: 'card', 'aria-labelledby': 'files-title' }, h('h2', { id: 'files-title' }, 'Files'), zone, transfers),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'diag-title' },
          h('h2', { id: 'diag-title' }, 'Diagnostics'),
          h('button', { type: 'button', onclick: () => s.requestDiagnostics() }, 'Get diagnostics'),
          report,
        ),
      ),
    ),
  );
  /** @type {Map<object, HTMLElement>} */
  const rows = new Map();
  let painting = false;
  const update = (/** @type {string} */ what) => {
    const text = {
      connecting: 'Connecting…',
      waiting: s.code ? 'Waiting for the customer to join…' : 'Waiting for the device…',
      connected: `Connected, end-to-end encrypted (key epoch ${s.endpoint.epoch}).`,
      reconnecting: 'Relay lost — reconnecting…',
      refused: s.ended,
      ended: `Session ended. ${s.ended}`,
    }[s.status] ?? s.status;
    if (status.textContent !== text) {
      status.textContent = text;
      say(text);
    }
    if (what === 'screen') {
      const d = s.viewing === null ? undefined : s.screens.get(s.viewing);
      screen.damage(d?.dirty ?? null);
    }
    if (what === 'monitors') screen.monitors();
    if (what === 'screen' && !painting) {
      painting = true;
      requestAnimationFrame(() => {
        painting = false;
        screen.paint();
      });
    }
    while (chatShown < s.chat.length) {
      const c = s.chat[chatShown++];
      chat.add(c.from, c.text);
    }
    show(
      members,
      ...[...s.members.values()].map((m) => {
        const who = m.role === 'device' ? 'Device' : m.role === 'leader' ? 'Lead expert' : m.role === 'expert' ? 'Expert' : 'Member';
        const what =
          m.role === 'expert' || m.role === 'leader'
            ? m.allowed?.length
              ? `may ${m.allowed.join(', ')}`
              : m.role === 'leader'
                ? 'leads the session'
                : 'may only chat'
            : m.granted.length
              ? `allows ${m.granted.join(', ')}`
              : 'has not allowed anything yet';
        const actions =
          s.endpoint.isLeader && !m.screen && m.role !== 'device'
            ? [
                h('button', { type: 'button', onclick: () => s.allow(m.id, ['view']) }, 'Let see the screen'),
                h('button', { type: 'button', onclick: () => s.allow(m.id, ['view', 'control', 'files', 'clipboard']) }, 'Let control'),
                m.role === 'expert' ? h('button', { type: 'button', onclick: () => s.handOver(m.id) }, 'Hand over') : null,
              ].filter((b) => b !== null)
            : [];
        return h('li', { 'data-member': m.id }, `${who} ${m.id}: ${what} `, ...actions);
      }),
    );
    for (const t of s.transferList) {
      let row = rows.get(t);
      if (!row) {
        row = h('div', { 'data-testid': 'transfer' });
        rows.set(t, row);
        transfers.append(row);
      }
      const label = `${t.direction === 'out' ? 'Sending' : 'Receiving'} ${t.name} (${bytes(t.size)}): ${t.state}${t.error ? ` — ${t.error}` : ''}`;
      const parts = [h('span', { 'data-state': t.state }, label), h('progress', { max: Math.max(1, t.size), value: t.done })];
      if (t.blob && t.state === 'done') {
        parts.push(h('a', { href: URL.createObjectURL(t.blob), download: t.name, class: 'button', 'data-testid': 'download' }, `Save ${t.name}`));
      }
      show(row, ...parts);
    }
    if (s.diagnostics) {
      report.hidden = false;
      report.textContent = JSON.stringify(s.diagnostics, null, 2);
    }
    if (s.status === 'ended') end.setAttribute('disabled', '');
    const attached = fromDesk?.querySelector('[data-testid=desk-attached]');
    if (attached && s.desk && attached.textContent !== s.desk.attached) attached.textContent = s.desk.attached;
  };
  update('init');
  return { update };
}

if (api.hasSession()) {
  enter().catch(() => signIn());
} else {
  signIn();
}
