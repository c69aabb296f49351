// @ts-check
/**
 * The expert's camera share page: the link (and text ready for SMS or
 * e-mail) to give the customer, the live video, freeze, snapshots (stored
 * encrypted on the server), arrows and circles drawn on the picture that
 * the customer sees too, asking for the rear camera or the light, chat,
 * and end — after which the share's record (chat, annotations, times) is
 * stored with it.
 * @module
 */

import * as api from '../lib/api.js';
import { CameraCall, CameraMessageError, check, drawAnnotation } from '../lib/camera.js';
import { announcer, chatPanel, h, show } from '../lib/ui.js';

const say = announcer();

/**
 * @param {HTMLElement} app
 * @param {import('./expert.js').ExpertSession} s
 */
export function cameraPage(app, s) {
  /** @type {CameraCall | null} */
  let call = null;
  let customer = 0;
  let connectedAt = /** @type {number | null} */ (null);
  let frozen = false;
  /** @type {'arrow' | 'circle'} */
  let tool = 'arrow';
  /** @type {{ at: number, shape: string, points: number[] }[]} */
  const marks = [];
  /** @type {{ facing: string | null, torch: boolean, torch_available: boolean } | null} */
  let camera = null;
  let recorded = false;

  const status = h('p', { role: 'status', 'data-testid': 'camera-status' }, 'Waiting for the customer to open the link…');
  const text = `Hello, please open this link on your phone so that I can see the device through your camera: ${s.link}`;
  const give = h(
    'section',
    { class: 'card', 'aria-labelledby': 'give-title' },
    h('h2', { id: 'give-title' }, 'Send the customer this link'),
    h('p', {}, h('a', { href: s.link, class: 'mono', 'data-testid': 'camera-link', target: '_blank', rel: 'noopener' }, s.link)),
    h('p', {}, 'Or the code ', h('span', { class: 'code' }, s.code), ' at ', location.origin + '/join'),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(text).then(() => say('Text copied.')) }, 'Copy text for SMS'),
      h('a', { class: 'button', href: `mailto:?subject=${encodeURIComponent('Show me through your camera')}&body=${encodeURIComponent(text)}` }, 'Write an e-mail'),
    ),
    h('p', { class: 'muted' }, 'The link works once, for one phone.'),
  );
  const video = /** @type {HTMLVideoElement} */ (h('video', { autoplay: true, muted: true, playsinline: true, 'aria-label': "The customer's camera", 'data-testid': 'camera-video' }));
  const still = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'still', hidden: true, 'aria-label': 'Frozen picture' }));
  const overlay = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'overlay draw', 'aria-label': 'Draw an arrow or a circle on the picture', 'data-testid': 'camera-overlay' }));
  const stage = h('div', { class: 'camera-stage' }, video, still, overlay);
  const snapshots = h('div', { class: 'snapshots', 'data-testid': 'snapshots' });
  const chat = chatPanel(async (line) => {
    s.chat.push({ from: 'You', text: line, at: Math.floor(Date.now() / 1000) });
    chat.add('You', line);
    await s.runtime?.send(0, { type: 'chat', text: line });
  }, () => s.chatPolicy);

  const redraw = () => {
    overlay.width = overlay.clientWidth || video.videoWidth;
    overlay.height = overlay.clientHeight || video.videoHeight;
    const g = overlay.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, overlay.width, overlay.height);
    for (const m of marks) drawAnnotation(g, m, overlay.width, overlay.height);
  };
  new ResizeObserver(redraw).observe(overlay);

  // Drawing: press, drag, release; the shape goes to the customer too.
  /** @type {{ x: number, y: number } | null} */
  let from = null;
  const at = (/** @type {PointerEvent} */ e) => {
    const r = overlay.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), y: Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)) };
  };
  overlay.addEventListener('pointerdown', (e) => {
    from = at(e);
    overlay.setPointerCapture(e.pointerId);
  });
  overlay.addEventListener('pointerup', (e) => {
    if (!from) return;
    const to = at(e);
    const points = [from.x, from.y, to.x, to.y].map((p) => Math.round(p * 10000) / 10000);
    from = null;
    annotate(tool, points);
  });

  /** @param {'arrow' | 'circle'} shape @param {number[]} points */
  const annotate = (shape, points) => {
    marks.push({ at: Date.now(), shape, points });
    redraw();
    if (customer) s.control(customer, { type: 'annotate', shape, points });
  };

  const freeze = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => setFrozen(!frozen) }, 'Freeze')
  );
  const setFrozen = (/** @type {boolean} */ on) => {
    frozen = on;
    freeze.setAttribute('aria-pressed', String(on));
    freeze.textContent = on ? 'Live' : 'Freeze';
    if (on) {
      still.width = video.videoWidth;
      still.height = video.videoHeight;
      still.getContext('2d')?.drawImage(video, 0, 0);
    }
    still.hidden = !on;
    video.hidden = on;
  };

  const snapshot = async () => {
    const c = document.createElement('canvas');
    c.width = video.videoWidth;
    c.height = video.videoHeight;
    if (!c.width) return say('No picture yet.');
    const g = c.getContext('2d');
    if (!g) return;
    g.drawImage(frozen ? still : video, 0, 0);
    for (const m of marks) drawAnnotation(g, m, c.width, c.height);
    const blob = await new Promise((done) => c.toBlob(done, 'image/png'));
    if (!blob) return;
    try {
      const item = await api.call('POST', `/api/v1/sessions/${s.id}/camera/snapshots`, blob, { 'content-type': 'image/png' });
      const open = async () => {
        const got = await fetch(`/api/v1/camera/items/${encodeURIComponent(item.id)}`, { credentials: 'same-origin' });
        if (!got.ok) return say('The snapshot could not be opened.');
        const url = URL.createObjectURL(await got.blob());
        window.open(url, '_blank', 'noopener');
      };
      snapshots.append(h('button', { type: 'button', class: 'snapshot', 'data-item': item.id, onclick: open }, `Snapshot ${snapshots.childElementCount + 1}`));
      say('Snapshot stored, encrypted.');
    } catch (e) {
      say(`The snapshot was not stored: ${e instanceof Error ? e.message : e}`);
    }
  };

  const torchButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', disabled: true, onclick: () => customer && s.control(customer, { type: 'camera_ask', torch: !camera?.torch }) }, 'Light'));
  const tools = h(
    'div',
    { class: 'row', role: 'toolbar', 'aria-label': 'Camera tools' },
    freeze,
    h('button', { type: 'button', 'data-testid': 'snapshot', onclick: () => snapshot() }, 'Snapshot'),
    h('button', { type: 'button', 'aria-pressed': 'true', 'data-tool': 'arrow', onclick: (/** @type {Event} */ e) => pick('arrow', e) }, 'Arrow'),
    h('button', { type: 'button', 'aria-pressed': 'false', 'data-tool': 'circle', onclick: (/** @type {Event} */ e) => pick('circle', e) }, 'Circle'),
    h('button', { type: 'button', onclick: () => { marks.length = 0; redraw(); if (customer) s.control(customer, { type: 'annotate_clear' }); } }, 'Clear drawings'),
    h('button', { type: 'button', onclick: () => customer && s.control(customer, { type: 'camera_ask', facing: camera?.facing === 'environment' ? 'user' : 'environment' }) }, 'Ask to switch camera'),
    torchButton,
    h('button', { type: 'button', class: 'danger', 'data-testid': 'end-session', onclick: () => end() }, 'End'),
  );
  const pick = (/** @type {'arrow' | 'circle'} */ t, /** @type {Event} */ e) => {
    tool = t;
    for (const b of tools.querySelectorAll('[data-tool]')) b.setAttribute('aria-pressed', String(b === e.currentTarget));
  };

  const end = async () => {
    call?.close();
    await s.end();
    await keepRecord();
  };

  const keepRecord = async () => {
    if (recorded) return;
    recorded = true;
    const path = call ? await call.path().catch(() => null) : null;
    const record = {
      connected_at: connectedAt,
      ended_at: Math.floor(Date.now() / 1000),
      chat: s.chat.map((l) => ({ at: l.at, from: l.from, text: l.text })),
      annotations: marks.map((m) => ({ at: m.at, shape: m.shape, points: m.points })),
      path,
    };
    await api.call('POST', `/api/v1/sessions/${s.id}/camera/record`, record).catch(() => {});
  };

  const startCall = (/** @type {number} */ member) => {
    customer = member;
    call?.close();
    call = new CameraCall({
      role: 'answerer',
      iceServers: s.iceServers,
      relayOnly: s.relayOnly,
      send: (v) => s.control(member, v),
      onTrack: (stream) => {
        video.srcObject = stream;
      },
      onState: (st) => {
        // `verified` is a finding about the connection, not a state of it.
        if (st !== 'verified') stage.dataset.call = st;
        if (st === 'connected') {
          connectedAt ??= Math.floor(Date.now() / 1000);
          status.textContent = 'Live — end-to-end encrypted.';
          call?.path().then((p) => {
            if (p) stage.dataset.path = p;
          });
        } else if (st === 'verified') stage.dataset.verified = 'true';
        else if (st === 'disconnected') status.textContent = 'The connection dropped — waiting for the phone to reconnect…';
        else if (st === 'failed') status.textContent = 'No path to the phone yet — still trying.';
      },
      onRefused: (why) => {
        stage.dataset.call = 'refused';
        status.textContent = `The call was refused: ${why}.`;
        say(status.textContent);
      },
    });
  };

  s.onCamera = (member, v) => {
    let c;
    try {
      c = check(v);
    } catch (e) {
      if (e instanceof CameraMessageError) console.warn('camera-share message refused', e.message);
      return;
    }
    if (c.type === 'rtc_offer' && (!call || member !== customer)) startCall(member);
    if (c.type === 'camera_state') {
      camera = { facing: c.facing, torch: c.torch, torch_available: c.torch_available };
      torchButton.disabled = !c.torch_available;
      torchButton.setAttribute('aria-pressed', String(c.torch));
      return;
    }
    if (member === customer) call?.handle(c).catch((e) => console.warn('signalling refused', e));
  };

  const update = (/** @type {string} */ what) => {
    if (what === 'chat') {
      const last = s.chat[s.chat.length - 1];
      if (last && last.from !== 'You') chat.add('Customer', last.text);
    }
    if (what === 'member_admitted') status.textContent = 'The customer opened the link — waiting for them to allow the camera…';
    if (what === 'granted') {
      const m = [...s.members.values()].find((x) => x.role === 'customer');
      if (m && !m.granted.includes('camera')) status.textContent = 'The customer did not share the camera.';
    }
    if (what === 'member_ended') status.textContent = 'The customer stopped sharing.';
    if (s.status === 'ended') {
      call?.close();
      status.textContent = `The camera share ended${s.ended ? ` (${s.ended})` : ''}.`;
      keepRecord().catch(() => {});
    }
  };

  show(
    app,
    h('h2', {}, 'Camera share'),
    status,
    give,
    h('div', { class: 'session-layout' }, h('div', { class: 'main' }, stage, tools, h('h3', {}, 'Snapshots'), snapshots), h('div', { class: 'side' }, chat.panel)),
  );
  return { update };
}
