// Camera share in two browsers against a real server: the customer's page
// has Chromium's fake camera playing a picture of four coloured quadrants
// (FERNHAND_CHROMIUM_FLAGS names the file); the expert's page must decode
// those colours from the live video, draw an arrow the customer's page
// receives, and take a snapshot the server keeps sealed (the run's Rust
// side looks for the image's bytes in the database files) and gives back
// whole. Then: the used link does not open again; a share through TURN
// only (FERNHAND_CAMERA_RELAY=1) still carries video over a relayed path;
// and a share whose signalling the network alters in flight never
// connects.
import assert from 'node:assert/strict';
import { firstSignIn } from './console.mjs';
import { ask, shot as screenshot, until } from './support.mjs';

/** The quadrants of the fake camera's picture, as RGB (top left, top right, bottom left, bottom right). */
export const QUADRANTS = [
  [235, 40, 40],
  [40, 200, 60],
  [40, 60, 235],
  [240, 240, 240],
];

/** @param {import('playwright-core').Page} page */
async function quadrantColours(page) {
  return page.getByTestId('camera-video').evaluate((/** @type {HTMLVideoElement} */ v) => {
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    if (!g || !c.width) return null;
    g.drawImage(v, 0, 0);
    const at = (/** @type {number} */ fx, /** @type {number} */ fy) => Array.from(g.getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data.slice(0, 3));
    return [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)];
  });
}

/** @param {number[][] | null} got */
function looksLikeTheCamera(got) {
  return got !== null && got.every((rgb, i) => rgb.every((c, k) => Math.abs(c - QUADRANTS[i][k]) <= 60));
}

/**
 * Start a camera share from the dashboard; returns the link.
 * @param {import('playwright-core').Page} expert @param {boolean} relayOnly
 */
async function startShare(expert, relayOnly) {
  await expert.getByRole('heading', { name: 'Help someone now' }).waitFor();
  await expert.getByLabel(/TURN service only/).setChecked(relayOnly);
  await expert.getByTestId('start-camera').click();
  const link = (await expert.getByTestId('camera-link').getAttribute('href')) ?? '';
  assert.match(link, /\/join\/[A-Za-z0-9_-]+#/);
  return link;
}

/** @param {import('playwright-core').Page} customer @param {string} link */
async function customerShares(customer, link) {
  await customer.goto(link);
  await customer.getByRole('heading', { name: /asks to see through your camera/ }).waitFor();
  await customer.getByTestId('allow').click();
}

export default async function run(ctx) {
  const first = ctx.env.FERNHAND_ADMIN_PASSWORD;
  assert.ok(first, 'FERNHAND_ADMIN_PASSWORD is set');
  const relay = ctx.env.FERNHAND_CAMERA_RELAY === '1';
  const expert = await ctx.newPage({ viewport: { width: 1200, height: 900 } });
  await firstSignIn(expert, ctx.base, first, 'a long passphrase for the camera');

  // --- Malformed signalling is refused by the check both pages run
  // before acting on a camera-share message; good messages pass.
  const verdicts = await expert.evaluate(async () => {
    const { check } = await import('/web/lib/camera.js');
    const fp = (/** @type {string} */ b) => `a=fingerprint:sha-256 ${Array(32).fill(b).join(':')}`;
    const good = `v=0\r\n${fp('AB')}\r\n`;
    const cases = {
      offer: { type: 'rtc_offer', sdp: good },
      annotate: { type: 'annotate', shape: 'circle', points: [0, 0.5, 1, 1] },
      empty_sdp: { type: 'rtc_offer', sdp: '' },
      no_fingerprint: { type: 'rtc_offer', sdp: 'v=0\r\n' },
      two_fingerprints: { type: 'rtc_answer', sdp: `${good}${fp('CD')}\r\n` },
      sha1_only: { type: 'rtc_answer', sdp: 'v=0\r\na=fingerprint:sha-1 AB:CD\r\n' },
      huge_sdp: { type: 'rtc_offer', sdp: good + 'x'.repeat(40000) },
      extra_field: { type: 'rtc_answer', sdp: good, evil: 1 },
      shape: { type: 'annotate', shape: 'star', points: [0, 0, 1, 1] },
      off_picture: { type: 'annotate', shape: 'arrow', points: [0, 0, 1, 2] },
      long_candidate: { type: 'rtc_candidate', candidate: 'x'.repeat(2000), mid: '0', index: 0 },
      facing: { type: 'camera_ask', facing: 'sideways' },
    };
    /** @type {Record<string, string>} */
    const out = {};
    for (const [name, v] of Object.entries(cases)) {
      try {
        check(v);
        out[name] = 'accepted';
      } catch (e) {
        out[name] = e instanceof Error ? e.constructor.name : String(e);
      }
    }
    return out;
  });
  for (const [name, verdict] of Object.entries(verdicts)) {
    assert.equal(verdict, ['offer', 'annotate'].includes(name) ? 'accepted' : 'CameraMessageError', name);
  }

  // --- The share: live video whose content is the fake camera's picture.
  const link = await startShare(expert, relay);
  const customer = await ctx.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await customerShares(customer, link);
  await until('the expert sees the four quadrants of the customer camera', async () => looksLikeTheCamera(await quadrantColours(expert)), 30_000);
  const stage = expert.locator('.camera-stage');
  await until('the call reports its path', async () => (await stage.getAttribute('data-path')) !== null, 10_000);
  assert.equal(await stage.getAttribute('data-path'), relay ? 'relay' : 'direct', 'the media path is the one asked for');
  await until("the peer's DTLS certificate matched the sealed fingerprint", async () => (await stage.getAttribute('data-verified')) === 'true', 10_000);
  console.log(`camera: video decoded over a ${relay ? 'TURN-relayed' : 'direct'} path`);
  if (relay) {
    await expert.getByTestId('end-session').click();
    return;
  }

  // --- An arrow drawn by the expert reaches the customer's picture.
  // Aimed at the picture itself: the drawing layer must lie exactly on it.
  const box = await expert.getByTestId('camera-video').boundingBox();
  assert.ok(box);
  await expert.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await expert.mouse.down();
  await expert.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 4 });
  await expert.mouse.up();
  await until('the customer receives the arrow', async () => (await customer.getByTestId('overlay').getAttribute('data-marks')) === '1', 10_000);
  const arrow = await customer.getByTestId('overlay').evaluate((/** @type {HTMLCanvasElement} */ c) => {
    const g = c.getContext('2d');
    if (!g) return { n: 0, tip: [0, 0] };
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    let tip = [0, 0];
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] > 200 && d[i + 1] < 90 && d[i + 3] > 200) {
        n++;
        const x = (i / 4) % c.width;
        if (x > tip[0]) tip = [x, Math.floor(i / 4 / c.width)];
      }
    }
    return { n, tip: [tip[0] / c.width, tip[1] / c.height] };
  });
  assert.ok(arrow.n > 50, `the arrow is drawn on the customer's picture (${arrow.n} red pixels)`);
  // Where the expert let go (60 %, 50 % of the picture), give or take the head.
  assert.ok(Math.abs(arrow.tip[0] - 0.6) < 0.05 && Math.abs(arrow.tip[1] - 0.5) < 0.06, `the arrow ends where it was drawn (${arrow.tip})`);
  await screenshot(expert, 'camera-expert-desktop', { fullPage: true });
  await screenshot(customer, 'camera-customer-phone', { fullPage: true });

  // --- A snapshot: stored sealed, given back whole to the expert.
  await expert.getByTestId('snapshot').click();
  const shot = expert.getByTestId('snapshots').locator('button').first();
  await shot.waitFor();
  const item = (await shot.getAttribute('data-item')) ?? '';
  const back = await expert.evaluate(async (id) => {
    const r = await fetch(`/api/v1/camera/items/${id}`);
    const b = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get('content-type'), head: Array.from(b.slice(0, 8)), size: b.length, hex: Array.from(b.slice(0, 1024), (x) => x.toString(16).padStart(2, '0')).join('') };
  }, item);
  assert.equal(back.status, 200);
  assert.equal(back.type, 'image/png');
  assert.deepEqual(back.head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG comes back');
  assert.ok(back.size > 1000, 'a whole picture');
  // The Rust side checks the database files hold none of these bytes.
  await ask(`sealed ${back.hex}`);

  // --- Chat both ways.
  await customer.getByRole('textbox', { name: 'Message' }).fill('It blinks orange');
  await customer.getByRole('button', { name: 'Send' }).click();
  await expert.getByText('It blinks orange').waitFor();

  // --- The relay goes away and comes back (as when the phone changes
  // network): the session reconnects, the call restarts ICE through it,
  // and the picture carries on — no new link.
  await ask('kill-relay');
  await customer.getByTestId('banner').filter({ hasText: 'reconnecting' }).waitFor();
  await ask('start-relay');
  await until('the phone restarts ICE after reconnecting', async () => Number(await customer.locator('.camera-stage').getAttribute('data-restarts')) >= 1, 30_000);
  await until('the expert is connected again', async () => (await stage.getAttribute('data-call')) === 'connected', 20_000);
  await until('the picture carries on', async () => looksLikeTheCamera(await quadrantColours(expert)), 20_000);

  // --- The used link does not open a second time (a third browser).
  const third = await ctx.newPage();
  await third.goto(link);
  await third.getByRole('alert').filter({ hasText: /used already or expired/ }).waitFor();

  // --- The customer stops: the camera is off, the expert is told.
  await customer.getByTestId('end').click();
  await customer.getByTestId('banner').filter({ hasText: 'Your camera is off' }).waitFor();
  await expert.getByTestId('camera-status').filter({ hasText: /stopped sharing|ended/ }).waitFor();
  await expert.getByTestId('end-session').click();

  // --- Signalling altered in flight: the call never connects.
  await expert.goto(`${ctx.base}/`);
  const link2 = await startShare(expert, false);
  const victim = await ctx.newPage({ viewport: { width: 390, height: 844 } });
  let altered = 0;
  let meddle = false;
  await victim.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      // Once the phone has joined, its large frames carry the offer: flip
      // one byte in the middle, as a meddling server would.
      if (meddle && typeof m !== 'string' && m.length > 600) {
        const b = Buffer.from(m);
        b[b.length >> 1] ^= 0x01;
        altered++;
        server.send(b);
      } else server.send(m);
    });
    server.onMessage((m) => ws.send(m));
  });
  await victim.goto(link2);
  await victim.getByRole('heading', { name: /asks to see through your camera/ }).waitFor();
  meddle = true;
  await victim.getByTestId('allow').click();
  await until('the offer was altered in flight', async () => altered > 0, 15_000);
  await new Promise((r) => setTimeout(r, 6000));
  assert.notEqual(await expert.locator('.camera-stage').getAttribute('data-call'), 'connected', 'no call on altered signalling');
  assert.equal(await quadrantColours(expert), null, 'no video reached the expert');
  console.log(`camera: ${altered} altered frames refused; no call`);
}
