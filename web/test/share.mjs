// View-only screen sharing from the join page: the customer opens the
// link in a (headed) Chromium on an X display, allows "view", shares the
// screen — the browser's own capture, encoded as JPEG and encrypted in
// the page — and the expert's canvas shows that screen: a red terminal
// window top left on black.
import assert from 'node:assert/strict';
import { launchOnDisplay, serveTestModules } from './browser.mjs';
import { pixelsOf, firstSignIn, startSession } from './console.mjs';
import { until } from './support.mjs';

/** Mean colour of a region given as fractions of the picture. */
function mean(p, fx0, fy0, fx1, fy1) {
  const [x0, y0, x1, y1] = [Math.floor(fx0 * p.width), Math.floor(fy0 * p.height), Math.floor(fx1 * p.width), Math.floor(fy1 * p.height)];
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * p.width + x) * 4;
      sum[0] += p.rgba[i];
      sum[1] += p.rgba[i + 1];
      sum[2] += p.rgba[i + 2];
      n++;
    }
  }
  return sum.map((s) => s / Math.max(1, n));
}

export default async function run(ctx) {
  const { FERNHAND_ADMIN_PASSWORD: first, FERNHAND_DISPLAY: display } = ctx.env;
  assert.ok(first && display, 'FERNHAND_ADMIN_PASSWORD and FERNHAND_DISPLAY are set');
  const expert = await ctx.newPage({ viewport: { width: 1400, height: 900 } });
  await firstSignIn(expert, ctx.base, first, 'a long and new sharing passphrase');
  const { link } = await startSession(expert);

  const headed = await launchOnDisplay(display);
  try {
    const context = await headed.newContext({ viewport: null });
    await serveTestModules(context);
    const customer = await context.newPage();
    customer.on('pageerror', (e) => console.error(`[customer] ${e.message}`));
    // The link carries the secret in its fragment: nothing to type.
    await customer.goto(link);
    assert.equal(new URL(customer.url()).hash, '', 'the secret is taken out of the address bar');
    await customer.getByTestId('consent').getByRole('heading', { name: /asks to connect/ }).waitFor();
    await customer.getByTestId('allow').click();
    await customer.getByTestId('share-screen').click();
    await customer.getByTestId('share-screen').filter({ hasText: 'Stop sharing' }).waitFor();

    await until('the shared screen in the canvas', () => expert.getByTestId('screen').getAttribute('data-seq'), 30000);
    const seen = await until(
      'a red window top left on black',
      async () => {
        const p = await pixelsOf(expert);
        const red = mean(p, 0.02, 0.05, 0.2, 0.2);
        const black = mean(p, 0.7, 0.7, 0.95, 0.95);
        if (red[0] > 150 && red[1] < 90 && red[2] < 90 && black.every((c) => c < 40)) return { p, red, black };
        throw new Error(`window ${red.map(Math.round)}, desktop ${black.map(Math.round)} in ${p.width}×${p.height}`);
      },
      30000,
    );
    console.log(`  shared screen ${seen.p.width}×${seen.p.height}: window ${seen.red.map(Math.round)}, desktop ${seen.black.map(Math.round)}`);
    const updates = Number(await expert.getByTestId('screen').getAttribute('data-seq'));
    await until('more pictures as the screen is shared', async () => Number(await expert.getByTestId('screen').getAttribute('data-seq')) > updates + 2, 20000);

    // The customer stops; the canvas stops moving.
    await customer.getByTestId('share-screen').click();
    await customer.getByTestId('share-screen').filter({ hasText: 'Share my screen' }).waitFor();
  } finally {
    await headed.close();
  }
}
