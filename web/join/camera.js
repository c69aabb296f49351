// @ts-check
/**
 * The customer's side of a camera share, phone first: consent naming the
 * expert, a choice of camera, the live preview with what the expert draws
 * on it, chat, and a stop button that works at any moment. The camera goes
 * to the expert's browser over WebRTC; everything that sets the call up
 * goes through the session's end-to-end channel.
 * @module
 */

import { CameraCall, CameraMessageError, check, drawAnnotation, isCameraMessage } from '../lib/camera.js';
import { announcer, banner, chatPanel, h, show } from '../lib/ui.js';
import { sessionEvent } from './events.js';

const say = announcer();


/**
 * @param {HTMLElement} app @param {HTMLElement} active
 * @param {{ iceServers: RTCIceServer[], chatPolicy?: string }} net
 */
export function cameraView(app, active, net) {
  /** @type {import('../lib/session/runtime.js').Session | null} */
  let runtime = null;
  let leader = 1;
  let over = false;
  /** @type {MediaStream | null} */
  let stream = null;
  /** @type {CameraCall | null} */
  let call = null;
  /** @type {'user' | 'environment'} */
  let facing = 'environment';
  let torch = false;
  /** Whether the expert asked for TURN only (neither side's address shown to the other). */
  let relayOnly = false;
  /** @type {{ shape: string, points: number[] }[]} */
  const marks = [];

  const state = h('div', {}, banner('warn', 'Connecting securely…'));
  const consent = h('section', { class: 'card', 'aria-labelledby': 'consent-title', hidden: true, 'data-testid': 'consent' });
  const video = /** @type {HTMLVideoElement} */ (h('video', { autoplay: true, muted: true, playsinline: true, 'aria-label': 'What your camera shows', 'data-testid': 'preview' }));
  const overlay = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'overlay', 'aria-hidden': 'true', 'data-testid': 'overlay' }));
  const stage = h('div', { class: 'camera-stage', hidden: true }, video, overlay);
  const chat = chatPanel(async (text) => {
    chat.add('You', text);
    await runtime?.send(0, { type: 'chat', text });
  }, () => net.chatPolicy);
  const stopButton = h('button', { type: 'button', class: 'danger', 'data-testid': 'end' }, 'Stop sharing');
  const flipButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', disabled: true, onclick: () => switchCamera(facing === 'user' ? 'environment' : 'user') }, 'Switch camera'));

  const send = (/** @type {Record<string, any>} */ value) => runtime?.send(leader, { type: 'control', value });

  const redraw = () => {
    const w = video.clientWidth || video.videoWidth;
    const hgt = video.clientHeight || video.videoHeight;
    overlay.width = w;
    overlay.height = hgt;
    const g = overlay.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, w, hgt);
    for (const m of marks) drawAnnotation(g, m, w, hgt);
    overlay.dataset.marks = String(marks.length);
  };
  new ResizeObserver(redraw).observe(video);

  const reportCamera = () => {
    const track = stream?.getVideoTracks()[0];
    const caps = /** @type {any} */ (track?.getCapabilities?.() ?? {});
    send({ type: 'camera_state', facing: stream ? facing : null, torch, torch_available: Boolean(caps.torch) });
  };

  const openCamera = async (/** @type {'user' | 'environment'} */ want) =>
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: want }, width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });

  const switchCamera = async (/** @type {'user' | 'environment'} */ want) => {
    if (!stream || !call) return;
    try {
      const next = await openCamera(want);
      const track = next.getVideoTracks()[0];
      await call.replaceVideo(track);
      for (const t of stream.getTracks()) t.stop();
      stream = next;
      video.srcObject = next;
      facing = want;
      torch = false;
      say(want === 'environment' ? 'Rear camera' : 'Front camera');
    } catch {
      say('That camera is not available.');
    }
    reportCamera();
  };

  const setTorch = async (/** @type {boolean} */ on) => {
    const track = stream?.getVideoTracks()[0];
    try {
      await track?.applyConstraints(/** @type {any} */ ({ advanced: [{ torch: on }] }));
      torch = on;
    } catch {
      say('This phone cannot switch its light from the browser.');
    }
    reportCamera();
  };

  const finish = (/** @type {string} */ text, kind = 'warn') => {
    over = true;
    call?.close();
    call = null;
    for (const t of stream?.getTracks() ?? []) t.stop();
    stream = null;
    active.hidden = true;
    stage.hidden = true;
    consent.hidden = true;
    stopButton.setAttribute('disabled', '');
    flipButton.disabled = true;
    show(state, banner(kind, text));
    say(text);
  };

  stopButton.addEventListener('click', async () => {
    await send({ type: 'end', reason: 'the customer stopped the camera share' });
    await runtime?.close('ended by the customer');
    finish('You stopped sharing. Your camera is off.', 'good');
  });

  const start = async () => {
    consent.hidden = true;
    try {
      stream = await openCamera(facing);
    } catch (e) {
      show(state, banner('bad', 'The camera could not be opened. Allow the camera for this page and try again.'));
      send({ type: 'granted', permissions: [] });
      return;
    }
    video.srcObject = stream;
    stage.hidden = false;
    active.hidden = false;
    flipButton.disabled = false;
    send({ type: 'granted', permissions: ['camera'] });
    call = new CameraCall({
      role: 'offerer',
      iceServers: net.iceServers,
      relayOnly,
      send,
      onState: (st) => {
        // `verified` is a finding about the connection, not a state of it.
        if (st !== 'verified') stage.dataset.call = st;
        if (st === 'connected' || st === 'verified') show(state, banner('good', 'Your expert sees your camera. End-to-end encrypted.'));
        else if (st === 'disconnected') show(state, banner('warn', 'Connection lost — reconnecting…'));
      },
      onRefused: (why) => finish(`The call was refused: ${why}.`, 'bad'),
    });
    await call.offer(stream);
    reportCamera();
  };

  const askConsent = (/** @type {string} */ expert) => {
    const choice = /** @type {HTMLSelectElement} */ (h('select', { id: 'camera-choice' }, h('option', { value: 'environment' }, 'Rear camera'), h('option', { value: 'user' }, 'Front camera')));
    show(
      consent,
      h('h2', { id: 'consent-title' }, `${expert} asks to see through your camera`),
      h('p', {}, 'Only the picture goes to them, encrypted, and only until you stop. Nothing else on your phone is shared.'),
      h('div', { class: 'check' }, h('label', { for: 'camera-choice' }, 'Camera'), choice),
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
              facing = choice.value === 'user' ? 'user' : 'environment';
              start().catch((e) => finish(`The camera share could not start: ${e instanceof Error ? e.message : e}`, 'bad'));
            },
          },
          'Share my camera',
        ),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              consent.hidden = true;
              send({ type: 'granted', permissions: [] });
              show(state, banner('warn', `You did not share your camera. You can still chat with ${expert}.`));
            },
          },
          'Not now',
        ),
      ),
    );
    consent.hidden = false;
    say(`${expert} asks to see through your camera`);
  };

  show(app, state, consent, stage, h('div', { class: 'row' }, stopButton, flipButton), chat.panel);

  /** @type {import('./events.js').CustomerPage} */
  const page = {
    status: (n) => show(state, n),
    finish,
    close: (why) => runtime?.close(why),
    what: 'camera share',
    wrongSecret: 'The link is not right. Ask your expert for a new one.',
  };

  return {
    /** @param {import('../lib/session/runtime.js').Session} r @param {number} l */
    attach(r, l) {
      runtime = r;
      leader = l;
    },
    /** @param {string} text */
    fail(text) {
      finish(text, 'bad');
    },
    /** @param {import('../lib/session/runtime.js').SessionEvent} e */
    event(e) {
      if (over) return;
      // A new network: the call finds a new path too.
      if (e.type === 'moved') {
        call
          ?.restart()
          .then(() => {
            stage.dataset.restarts = String(call?.restarts ?? 0);
          })
          .catch(() => {});
      }
      if (sessionEvent(e, page)) return;
      switch (e.type) {
        case 'received': {
          const m = e.message;
          if (e.from !== leader) break;
          if (m.type === 'chat') chat.add('Expert', m.text);
          else if (m.type === 'control') {
            const v = m.value;
            if (v.type === 'request' && typeof v.expert === 'string') {
              relayOnly = v.relay_only === true;
              askConsent(v.expert.slice(0, 200));
            }
            else if (v.type === 'end') {
              finish('Your expert ended the camera share. Your camera is off.', 'good');
              runtime?.close('ended by the expert');
            } else if (isCameraMessage(v.type)) {
              try {
                const c = check(v);
                if (c.type === 'annotate') {
                  marks.push({ shape: c.shape, points: c.points });
                  redraw();
                  say('Your expert marked something on the picture.');
                } else if (c.type === 'annotate_clear') {
                  marks.length = 0;
                  redraw();
                } else if (c.type === 'camera_ask') {
                  if (c.facing && c.facing !== facing) {
                    if (confirm(c.facing === 'environment' ? 'Your expert asks for the rear camera. Switch?' : 'Your expert asks for the front camera. Switch?')) switchCamera(c.facing);
                  }
                  if (typeof c.torch === 'boolean') setTorch(c.torch);
                } else call?.handle(c).catch((err) => console.warn('signalling refused', err));
              } catch (err) {
                if (err instanceof CameraMessageError) console.warn('camera-share message refused', err.message);
              }
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
