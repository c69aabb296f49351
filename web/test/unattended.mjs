// An unattended device from the console: the dashboard lists the enrolled
// device online; a wrong access password is refused by the device itself
// (it holds only the verifier); the right one, given after "Connect" on the
// device's configuration item page, connects with nobody at the machine,
// and the canvas shows its screen.
import assert from 'node:assert/strict';
import { firstSignIn } from './console.mjs';
import { until } from './support.mjs';

export default async function run(ctx) {
  const { FERNHAND_ADMIN_PASSWORD: first, FERNHAND_DEVICE_NAME: name, FERNHAND_DEVICE_PASSWORD: password } = ctx.env;
  assert.ok(first && name && password, 'FERNHAND_ADMIN_PASSWORD, _DEVICE_NAME and _DEVICE_PASSWORD are set');
  const expert = await ctx.newPage({ viewport: { width: 1400, height: 900 } });
  await firstSignIn(expert, ctx.base, first, 'a long and new unattended passphrase');
  const row = expert.locator('tr', { hasText: name });
  await until(
    'the device online on the dashboard',
    async () => {
      if ((await row.count()) && (await row.textContent())?.includes('online')) return true;
      await expert.reload();
      await expert.getByRole('heading', { name: 'Help someone now' }).waitFor();
      return false;
    },
    60000,
  );

  // A wrong password: the device refuses the join.
  await row.getByRole('button', { name: 'Connect' }).click();
  await expert.getByLabel(`Access password of ${name}`).fill('not the password');
  await expert.getByRole('button', { name: 'Connect' }).click();
  await expert.getByTestId('session-status').filter({ hasText: 'wrong secret' }).waitFor({ timeout: 30000 });
  await expert.getByTestId('end-session').click();

  // The right one, from the device's page in the configuration database
  // (enrolment made it a configuration item).
  await expert.goto(`${ctx.base}/desk/cis?type=device`);
  await expert.getByRole('link', { name }).click();
  await expert.getByTestId('ci-title').filter({ hasText: name }).waitFor();
  await expert.getByTestId('connect-device').click();
  await expert.getByLabel(`Access password of ${name}`).fill(password);
  await expert.getByRole('button', { name: 'Connect' }).click();
  await expert.getByTestId('session-status').filter({ hasText: 'end-to-end encrypted' }).waitFor({ timeout: 30000 });
  await until('the device screen in the canvas', () => expert.getByTestId('screen').getAttribute('data-seq'), 60000);
  const size = await expert.getByTestId('screen').evaluate((c) => [c.width, c.height]);
  assert.deepEqual(size, [800, 600], 'the canvas has the device screen size');
  await until('the device grants', async () => {
    const items = await expert.locator('[data-testid=members] li').allTextContents();
    return items.some((t) => t.startsWith('Device') && t.includes('view') && t.includes('control'));
  });
  await expert.getByTestId('end-session').click();
  await expert.getByTestId('session-status').filter({ hasText: 'Session ended' }).waitFor();
}
