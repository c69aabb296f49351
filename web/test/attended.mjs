// A full attended session in the browser, against a real server, relay and
// agent: the expert signs in (one-time password changed, MFA turned on,
// then a sign-in with a TOTP code), starts a session; the customer's join
// page joins by code, consents and chats both ways; the agent on an Xvfb
// display joins; the expert types into an xterm through the console and the
// canvas shows what the X server shows; files go both ways through the
// drag-and-drop zones; the expert ends the session. Screenshots of both
// pages at desktop and phone sizes go to $FERNHAND_SCREENSHOTS.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstSignIn, pixelsOf } from './console.mjs';
import { Child, parseXwd, shot, totp, until } from './support.mjs';

const DESKTOP = { width: 1400, height: 900 };
const PHONE = { width: 390, height: 844 };

/** Drop a file made in the page on a drop zone, as a user dragging it would. */
async function dropFile(page, zoneSelector, name, bytes) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, b64 }) => {
      const bin = atob(b64);
      const data = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([data], name, { type: 'application/octet-stream' }));
      return dt;
    },
    { name, b64: bytes.toString('base64') },
  );
  await page.dispatchEvent(zoneSelector, 'dragover', { dataTransfer });
  await page.dispatchEvent(zoneSelector, 'drop', { dataTransfer });
}

export default async function run(ctx) {
  const env = ctx.env;
  const first = env.FERNHAND_ADMIN_PASSWORD;
  const bin = env.FERNHAND_BIN;
  const display = env.FERNHAND_DISPLAY;
  const share = env.FERNHAND_SHARE;
  assert.ok(first && bin && display && share, 'FERNHAND_ADMIN_PASSWORD, _BIN, _DISPLAY and _SHARE are set');
  const newPassword = 'a long and new browser passphrase';

  // --- The expert signs in: one-time password, then their own.
  const expert = await ctx.newPage({ viewport: DESKTOP, acceptDownloads: true });
  await expert.goto(`${ctx.base}/`);
  await shot(expert, 'console-sign-in-desktop');
  await expert.getByLabel('E-mail').fill('admin@localhost');
  await expert.getByLabel('Password').fill('not the password');
  await expert.getByRole('button', { name: 'Sign in' }).click();
  await expert.getByRole('alert').filter({ hasText: 'Wrong tenant, e-mail or password.' }).waitFor();
  await expert.getByLabel('Password').fill(first);
  await expert.getByRole('button', { name: 'Sign in' }).click();
  await expert.getByLabel('New password').fill(newPassword);
  await expert.getByRole('button', { name: 'Save password' }).click();
  await expert.getByRole('heading', { name: 'Help someone now' }).waitFor();

  // --- Turns on MFA, signs out, and signs in with a TOTP code.
  await expert.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  const secret = (await expert.getByTestId('mfa-secret').textContent())?.trim() ?? '';
  assert.match(secret, /^[A-Z2-7]+=*$/, 'a base32 secret is shown');
  await expert.getByLabel('Code shown by the app').fill(totp(secret));
  await expert.getByRole('button', { name: 'Turn on' }).click();
  await expert.getByRole('heading', { name: 'Two-factor sign-in is on' }).waitFor();
  await expert.getByRole('button', { name: 'Done' }).click();
  await expert.getByRole('button', { name: 'Sign out' }).click();
  await expert.getByLabel('E-mail').fill('admin@localhost');
  await expert.getByLabel('Password').fill(newPassword);
  await expert.getByRole('button', { name: 'Sign in' }).click();
  await expert.getByLabel(/Code from your authenticator/).fill('000000' === totp(secret) ? '111111' : '000000');
  await expert.getByRole('button', { name: 'Verify' }).click();
  await expert.getByRole('alert').filter({ hasText: /not valid|code/i }).waitFor();
  await expert.getByLabel(/Code from your authenticator/).fill(totp(secret));
  await expert.getByRole('button', { name: 'Verify' }).click();
  await expert.getByRole('heading', { name: 'Help someone now' }).waitFor();
  await shot(expert, 'console-dashboard-desktop');

  // The tenant masks restricted data in what its endpoints send.
  await expert.evaluate(() =>
    import('/web/lib/api.js').then((api) => api.call('PUT', '/api/v1/privacy/settings', { restricted_policy: 'mask', session_retention_days: null })),
  );

  // --- Starts a session; the code is shown.
  await expert.getByTestId('start-session').click();
  const codeText = (await expert.getByTestId('join-code').textContent()) ?? '';
  const code = codeText.replace(/\s/g, '');
  assert.match(code, /^\d{12}$/, `a 12-digit code is shown (${codeText})`);
  const link = (await expert.getByTestId('join-link').getAttribute('href')) ?? '';
  assert.match(link, /\/join\/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{22}$/);

  // --- The customer: a wrong code first, then the right one.
  const customer = await ctx.newPage({ viewport: PHONE, acceptDownloads: true });
  await customer.goto(`${ctx.base}/join`);
  await shot(customer, 'join-code-phone');
  const wrong = code.slice(0, 6) + (code.slice(6) === '000000' ? '111111' : '000000');
  await customer.getByLabel('Code from your support expert').fill(wrong);
  await customer.getByRole('button', { name: 'Join' }).click();
  await customer.getByTestId('banner').filter({ hasText: 'The code is not right' }).waitFor();
  await customer.goto(`${ctx.base}/join`);
  await customer.getByLabel('Code from your support expert').fill(codeText);
  await customer.getByRole('button', { name: 'Join' }).click();
  const consent = customer.getByTestId('consent');
  await consent.getByRole('heading', { name: /asks to connect/ }).waitFor();
  const asked = (await consent.textContent()) ?? '';
  assert.match(asked, /Administrator asks to connect/, 'the consent names the expert');
  for (const w of ['see your screen', 'control your mouse', 'send and receive files', 'diagnostics', 'clipboard']) {
    assert.ok(asked.includes(w), `the consent names "${w}"`);
  }
  await shot(customer, 'join-consent-phone');
  await customer.getByTestId('allow').click();
  await customer.getByTestId('banner').filter({ hasText: 'Connected to Administrator' }).waitFor();
  await expert.locator('[data-testid=members] li').filter({ hasText: 'allows view, files' }).waitFor();

  // --- Chat both ways.
  await expert.getByRole('textbox', { name: 'Message' }).fill('Grüezi! I can help with the printer.');
  await expert.getByRole('textbox', { name: 'Message' }).press('Enter');
  await customer.getByTestId('chat-log').filter({ hasText: 'Grüezi! I can help with the printer.' }).waitFor();
  await customer.getByRole('textbox', { name: 'Message' }).fill('Thank you — it shows E-42');
  await customer.getByRole('button', { name: 'Send' }).click();
  await expert.getByTestId('chat-log').filter({ hasText: 'Thank you — it shows E-42' }).waitFor();
  // A card number is masked in the customer's page before it is encrypted:
  // the expert's side never receives it.
  await customer.getByRole('textbox', { name: 'Message' }).fill('Should I pay with 4111 1111 1111 1111?');
  await customer.getByRole('button', { name: 'Send' }).click();
  await customer.getByTestId('chat-note').filter({ hasText: 'Sent with a payment card number masked' }).waitFor();
  await expert.getByTestId('chat-log').filter({ hasText: 'Should I pay with **** **** **** 1111?' }).waitFor();
  assert.ok(!((await expert.getByTestId('chat-log').textContent()) ?? '').includes('4111 1111 1111 1111'), 'the number never reached the expert');

  // --- The agent joins on the Xvfb display; its user consents.
  const agent = new Child('agent', bin, ['agent', 'join', code, '--server', ctx.base, '--folder', share], { DISPLAY: display });
  try {
    await agent.line('the consent prompt', (l) => l.includes('asks to connect'), 60000);
    agent.send('y');
    await agent.line('the session indicator', (l) => l.startsWith('SESSION ACTIVE'));
    await until('the agent grants all five permissions', async () => {
      const items = await expert.locator('[data-testid=members] li').allTextContents();
      return items.some((t) => ['view', 'control', 'files', 'diagnostics', 'clipboard'].every((p) => t.includes(p)));
    });
    await until('the agent screen in the canvas', () => expert.getByTestId('screen').getAttribute('data-seq'), 60000);

    // --- The expert types into the xterm through the console.
    const canvas = expert.getByTestId('screen');
    const box = await canvas.boundingBox();
    assert.ok(box, 'the canvas is on the page');
    const size = await canvas.evaluate((c) => [c.width, c.height]);
    await expert.mouse.click(box.x + (300 * box.width) / size[0], box.y + (200 * box.height) / size[1]);
    await expert.keyboard.type('printf "\\033[41m%60s\\033[0m\\n" X');
    await expert.keyboard.press('Enter');
    const canvasPixels = async () => (await pixelsOf(expert)).rgba;
    // Counted in the page: moving the whole picture out each time would
    // keep the page's thread too busy to paint.
    const redInCanvas = () =>
      canvas.evaluate((c) => {
        const d = /** @type {HTMLCanvasElement} */ (c).getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 80 && d[i + 2] < 80) n++;
        return n;
      });
    await until('the red bar in the canvas', async () => (await redInCanvas()) >= 60 * 6 * 10, 60000);

    // The canvas equals the X server's own picture (xwd), pixel for pixel
    // but for a few (tiles in flight, JPEG rounding).
    let diff = 1;
    await until(
      'the canvas to match the screen',
      async () => {
        const xwd = parseXwd(execFileSync('xwd', ['-root', '-silent', '-display', display], { maxBuffer: 64 << 20 }));
        const got = await canvasPixels();
        assert.equal(got.length, xwd.rgba.length, 'canvas and screen have the same size');
        let off = 0;
        for (let i = 0; i < got.length; i += 4) {
          if (Math.abs(got[i] - xwd.rgba[i]) > 24 || Math.abs(got[i + 1] - xwd.rgba[i + 1]) > 24 || Math.abs(got[i + 2] - xwd.rgba[i + 2]) > 24) off++;
        }
        diff = off / (got.length / 4);
        if (diff >= 0.001) {
          // Say where, for a run that fails.
          let minX = 1e9, minY = 1e9, maxX = -1, maxY = -1;
          for (let i = 0; i < got.length; i += 4) {
            if (Math.abs(got[i] - xwd.rgba[i]) > 24 || Math.abs(got[i + 1] - xwd.rgba[i + 1]) > 24 || Math.abs(got[i + 2] - xwd.rgba[i + 2]) > 24) {
              const p = i / 4, x = p % xwd.width, y = Math.floor(p / xwd.width);
              minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
            }
          }
          console.log(`  ${(diff * 100).toFixed(3)} % differ, within x ${minX}..${maxX}, y ${minY}..${maxY}`);
        }
        return diff < 0.001;
      },
      20000,
    );
    console.log(`  canvas vs X server: ${(diff * 100).toFixed(3)} % of pixels differ`);

    // --- Two monitors on the host: the console shows one of them.
    const xrandr = (args) => execFileSync('xrandr', ['-display', display, ...args]);
    xrandr(['--setmonitor', 'left', '640/160x800/200+0+0', 'screen']);
    xrandr(['--setmonitor', 'right', '640/160x800/200+640+0', 'none']);
    await expert.getByRole('button', { name: 'Refresh' }).click();
    const monitor = expert.getByTestId('monitor');
    await until('the host\'s two monitors offered', async () => (await monitor.locator('option').count()) === 3);
    const rightIndex = await monitor.locator('option').evaluateAll((os) => os.findIndex((o) => o.textContent?.startsWith('right')));
    await monitor.selectOption({ index: rightIndex });
    await until('the canvas shows the right monitor only', async () => (await canvas.evaluate((c) => c.width)) === 640);
    const right = await pixelsOf(expert);
    const screenNow = parseXwd(execFileSync('xwd', ['-root', '-silent', '-display', display], { maxBuffer: 64 << 20 }));
    let offRight = 0;
    for (let y = 0; y < 800; y++) {
      for (let x = 0; x < 640; x++) {
        const a = (y * 640 + x) * 4;
        const b = (y * screenNow.width + 640 + x) * 4;
        if (Math.abs(right.rgba[a] - screenNow.rgba[b]) > 24 || Math.abs(right.rgba[a + 2] - screenNow.rgba[b + 2]) > 24) offRight++;
      }
    }
    assert.ok(offRight < 640 * 800 * 0.001, `the right monitor's picture (${offRight} pixels off)`);
    await monitor.selectOption({ index: 0 });
    await until('all monitors again', async () => (await canvas.evaluate((c) => c.width)) === 1280);
    await shot(expert, 'console-session-desktop');

    // --- Collaboration: a colleague (a second expert account) joins with
    // the link; the lead expert lets them see the screen.
    const bob = await expert.evaluate(() =>
      import('/web/lib/api.js').then((api) => api.call('POST', '/api/v1/users', { email: 'bob@localhost', name: 'Bob', role: 'expert' })),
    );
    // From now on the tenant blocks restricted data; Bob's console learns
    // the policy when it joins.
    await expert.evaluate(() =>
      import('/web/lib/api.js').then((api) => api.call('PUT', '/api/v1/privacy/settings', { restricted_policy: 'block', session_retention_days: null })),
    );
    const colleague = await ctx.newPage({ viewport: DESKTOP });
    await firstSignIn(colleague, ctx.base, bob.one_time_password, 'bob chooses a long passphrase', 'bob@localhost');
    await colleague.getByLabel("Code or link of a colleague's session").fill(link);
    await colleague.getByRole('button', { name: 'Join as a second expert' }).click();
    await colleague.getByTestId('session-status').filter({ hasText: 'end-to-end encrypted' }).waitFor();
    const bobRow = expert.locator('[data-testid=members] li').filter({ has: expert.getByRole('button', { name: 'Let see the screen' }) }).last();
    await bobRow.getByRole('button', { name: 'Let see the screen' }).click();
    await until('the colleague sees the screen', () => colleague.getByTestId('screen').getAttribute('data-seq'), 30000);
    const seenByBob = await pixelsOf(colleague);
    let redForBob = 0;
    for (let i = 0; i < seenByBob.rgba.length; i += 4) if (seenByBob.rgba[i] > 150 && seenByBob.rgba[i + 1] < 80 && seenByBob.rgba[i + 2] < 80) redForBob++;
    assert.ok(redForBob >= 60 * 6 * 10, `the colleague sees the red bar too (${redForBob} px)`);
    await colleague.getByRole('textbox', { name: 'Message' }).fill('Refund to IBAN GB82 WEST 1234 5698 7654 32');
    await colleague.getByRole('textbox', { name: 'Message' }).press('Enter');
    await colleague.getByTestId('chat-note').filter({ hasText: 'Not sent' }).waitFor();
    assert.equal(await colleague.getByRole('textbox', { name: 'Message' }).inputValue(), 'Refund to IBAN GB82 WEST 1234 5698 7654 32', 'the blocked text stays to be edited');
    await colleague.getByRole('textbox', { name: 'Message' }).fill('Bob here, I see it');
    await colleague.getByRole('textbox', { name: 'Message' }).press('Enter');
    await expert.getByTestId('chat-log').filter({ hasText: 'Bob here, I see it' }).waitFor();
    assert.ok(!((await expert.getByTestId('chat-log').textContent()) ?? '').includes('GB82'), 'the blocked message never left Bob');

    // --- A file from the expert to the agent, dropped on the console.
    const toAgent = randomBytes(700 * 1024);
    await dropFile(expert, '[data-testid=dropzone]', 'report.bin', toAgent);
    await expert.locator('[data-testid=transfer] [data-state=done]').filter({ hasText: 'report.bin' }).waitFor({ timeout: 60000 });
    const arrived = join(share, 'report.bin');
    await until('the file in the agent folder', () => existsSync(arrived));
    assert.equal(createHash('sha256').update(readFileSync(arrived)).digest('hex'), createHash('sha256').update(toAgent).digest('hex'));

    // --- A file from the customer to the expert, dropped on the join page.
    const toExpert = randomBytes(300 * 1024);
    await dropFile(customer, '[data-testid=dropzone]', 'photo.jpg', toExpert);
    const download = expert.waitForEvent('download');
    await expert.getByRole('link', { name: 'Save photo.jpg' }).click({ timeout: 60000 });
    const saved = await (await download).path();
    assert.equal(createHash('sha256').update(readFileSync(saved)).digest('hex'), createHash('sha256').update(toExpert).digest('hex'));

    // --- Malware checks where files land. The EICAR test file from the
    // customer is stopped in the expert's page (never offered for saving);
    // from the expert it is quarantined by the agent. Both senders are told.
    const eicar = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
    assert.equal(eicar.length, 68);
    await dropFile(customer, '[data-testid=dropzone]', 'invoice.com', eicar);
    await customer.locator('[data-testid=transfer] [data-state=failed]').filter({ hasText: 'Eicar-Test-Signature' }).waitFor({ timeout: 60000 });
    await expert.locator('[data-testid=transfer] [data-state=failed]').filter({ hasText: 'invoice.com' }).waitFor();
    assert.equal(await expert.getByRole('link', { name: 'Save invoice.com' }).count(), 0, 'nothing to save');
    await dropFile(expert, '[data-testid=dropzone]', 'update.com', eicar);
    await expert.locator('[data-testid=transfer] [data-state=failed]').filter({ hasText: 'quarantined' }).waitFor({ timeout: 60000 });
    assert.ok(!existsSync(join(share, 'update.com')), 'the agent did not release it');
    await until('both endpoints raised a security event', async () => {
      const events = await expert.evaluate(() =>
        import('/web/lib/api.js').then((api) => api.call('GET', '/api/v1/security-events?since=0')),
      );
      const malware = (Array.isArray(events) ? events : events.events ?? []).filter((e) => e.kind === 'malware_quarantined');
      if (malware.length >= 2) return malware;
      throw new Error(`${malware.length} malware events so far`);
    });
    await shot(customer, 'join-session-phone');

    // --- The join page's download is the agent itself (this very binary).
    const agentDownload = customer.waitForEvent('download');
    await customer.getByTestId('download-agent').click();
    const got = await (await agentDownload).path();
    assert.equal(
      createHash('sha256').update(readFileSync(got)).digest('hex'),
      createHash('sha256').update(readFileSync(bin)).digest('hex'),
      'the download is the fernhand binary',
    );
    assert.match(await customer.getByTestId('download-agent').getAttribute('download'), /^fernhand-linux-/);

    // --- Phone-sized console and desktop-sized join page.
    await expert.setViewportSize(PHONE);
    await shot(expert, 'console-session-phone');
    await customer.setViewportSize(DESKTOP);
    await shot(customer, 'join-session-desktop');
    await expert.setViewportSize(DESKTOP);

    // --- The lead expert hands the session over to the colleague and
    // leaves; the rest go on in a new epoch under the colleague.
    const epochOf = async (page) => Number(/key epoch (\d+)/.exec((await page.getByTestId('session-status').textContent()) ?? '')?.[1]);
    const before = await epochOf(colleague);
    await expert.locator('[data-testid=members] li').filter({ has: expert.getByRole('button', { name: 'Hand over' }) }).getByRole('button', { name: 'Hand over' }).click();
    await expert.getByTestId('session-status').filter({ hasText: 'You handed the session over' }).waitFor();
    await colleague.getByTestId('chat-log').filter({ hasText: 'You lead the session now.' }).waitFor();
    await until('a new epoch under the colleague', async () => (await epochOf(colleague)) > before);
    await agent.line('the new leader', (l) => l.includes('now leads the session'));
    // The new leader works the machine: a green bar typed into the xterm.
    const bobCanvas = colleague.getByTestId('screen');
    const bobBox = await bobCanvas.boundingBox();
    assert.ok(bobBox);
    await colleague.mouse.click(bobBox.x + (300 * bobBox.width) / size[0], bobBox.y + (200 * bobBox.height) / size[1]);
    await colleague.keyboard.type('printf "\\033[42m%60s\\033[0m\\n" Y');
    await colleague.keyboard.press('Enter');
    await until(
      'the green bar in the new leader\'s canvas',
      () =>
        bobCanvas.evaluate((c) => {
          const d = /** @type {HTMLCanvasElement} */ (c).getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i + 1] > 150 && d[i] < 80 && d[i + 2] < 80) n++;
          return n >= 60 * 6 * 10;
        }),
      60000,
    );
    await colleague.getByRole('textbox', { name: 'Message' }).fill('Bob has taken over');
    await colleague.getByRole('textbox', { name: 'Message' }).press('Enter');
    await customer.getByTestId('chat-log').filter({ hasText: 'Bob has taken over' }).waitFor();

    // --- The new leader ends the session; the customer and the agent hear it.
    await colleague.getByTestId('end-session').click();
    await customer.getByTestId('banner').filter({ hasText: 'Your expert ended the session' }).waitFor();
    await agent.line('the end', (l) => /ended/i.test(l), 30000);
  } finally {
    agent.kill();
  }
}
