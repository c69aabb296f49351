// Steps through the console that several browser tests share.
import assert from 'node:assert/strict';

/**
 * Sign the first administrator in with the one-time password and choose a
 * new one; ends on the dashboard.
 * @param {import('playwright-core').Page} page @param {string} base @param {string} first @param {string} chosen @param {string} [email]
 */
export async function firstSignIn(page, base, first, chosen, email = 'admin@localhost') {
  await page.goto(`${base}/`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(first);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('New password').fill(chosen);
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('heading', { name: 'Help someone now' }).waitFor();
}

/** Start a session; returns its code (12 digits) and link. @param {import('playwright-core').Page} page */
export async function startSession(page) {
  await page.getByTestId('start-session').click();
  const code = ((await page.getByTestId('join-code').textContent()) ?? '').replace(/\s/g, '');
  assert.match(code, /^\d{12}$/);
  const link = (await page.getByTestId('join-link').getAttribute('href')) ?? '';
  return { code, link };
}

/**
 * Pixels of the console's screen canvas, RGBA (moved out as one base64
 * string: an array of numbers this size would keep the page busy).
 * @param {import('playwright-core').Page} page
 */
export async function pixelsOf(page) {
  const { width, height, b64 } = await page.getByTestId('screen').evaluate((c) => {
    const canvas = /** @type {HTMLCanvasElement} */ (c);
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let bin = '';
    for (let i = 0; i < data.length; i += 0x8000) bin += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: canvas.width, height: canvas.height, b64: btoa(bin) };
  });
  return { width, height, rgba: new Uint8Array(Buffer.from(b64, 'base64')) };
}
