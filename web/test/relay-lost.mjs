// The relay dies mid-session: both pages say so ("reconnecting"), and
// when a relay is back they say that too and the session goes on — chat
// both ways after the move, nothing lost of what was said.
import assert from 'node:assert/strict';
import { firstSignIn, startSession } from './console.mjs';
import { ask } from './support.mjs';

export default async function run(ctx) {
  const first = ctx.env.FERNHAND_ADMIN_PASSWORD;
  assert.ok(first, 'FERNHAND_ADMIN_PASSWORD is set');
  const expert = await ctx.newPage({ viewport: { width: 1280, height: 800 } });
  await firstSignIn(expert, ctx.base, first, 'a long and new relay passphrase');
  const { code } = await startSession(expert);
  const customer = await ctx.newPage({ viewport: { width: 390, height: 844 } });
  await customer.goto(`${ctx.base}/join`);
  await customer.getByLabel('Code from your support expert').fill(code);
  await customer.getByRole('button', { name: 'Join' }).click();
  await customer.getByTestId('allow').click();
  await customer.getByTestId('banner').filter({ hasText: 'Connected to' }).waitFor();

  await ask('kill-relay');
  await customer.getByTestId('banner').filter({ hasText: 'Connection lost — reconnecting' }).waitFor();
  await expert.getByTestId('session-status').filter({ hasText: 'Relay lost — reconnecting' }).waitFor();
  // Said while the relay is down: kept and sent after the move.
  await customer.getByRole('textbox', { name: 'Message' }).fill('Are you still there?');
  await customer.getByRole('textbox', { name: 'Message' }).press('Enter');
  await ask('start-relay');
  await customer.getByTestId('banner').filter({ hasText: 'Reconnected' }).waitFor({ timeout: 60000 });
  await expert.getByTestId('session-status').filter({ hasText: 'end-to-end encrypted' }).waitFor({ timeout: 60000 });
  await expert.getByTestId('chat-log').filter({ hasText: 'Are you still there?' }).waitFor({ timeout: 30000 });
  await expert.getByRole('textbox', { name: 'Message' }).fill('Yes, back again');
  await expert.getByRole('textbox', { name: 'Message' }).press('Enter');
  await customer.getByTestId('chat-log').filter({ hasText: 'Yes, back again' }).waitFor();
}
