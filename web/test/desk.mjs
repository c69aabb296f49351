// The service desk with remote support, in the browser against a real
// server, relay and agent: the expert raises an incident on the desk's
// pages (its title and description carry markup that must stay text),
// starts a remote session from it, the agent on an Xvfb display joins and
// the two chat, the expert ends the session, and the incident's page shows
// the session's record with its transcript and duration.
import assert from 'node:assert/strict';
import { firstSignIn } from './console.mjs';
import { Child, shot, until } from './support.mjs';

const TITLE = 'Printer <img src=x onerror="window.__pwned=1"> shows E-42';
const DESCRIPTION = 'Since this morning. <script>window.__pwned=2</script>';

export default async function run(ctx) {
  const env = ctx.env;
  const first = env.FERNHAND_ADMIN_PASSWORD;
  const bin = env.FERNHAND_BIN;
  const display = env.FERNHAND_DISPLAY;
  const share = env.FERNHAND_SHARE;
  assert.ok(first && bin && display && share, 'FERNHAND_ADMIN_PASSWORD, _BIN, _DISPLAY and _SHARE are set');
  const expert = await ctx.newPage({ viewport: { width: 1400, height: 900 } });
  await firstSignIn(expert, ctx.base, first, 'a long passphrase for the desk');

  // --- An incident, raised on the desk's own form.
  await expert.goto(`${ctx.base}/desk`);
  await expert.getByRole('link', { name: 'New incident' }).click();
  await expert.getByLabel('Title').fill(TITLE);
  await expert.getByLabel('Description').fill(DESCRIPTION);
  await expert.getByLabel('Impact').selectOption('high');
  await expert.getByLabel('Urgency').selectOption('medium');
  await expert.getByLabel('Requester').fill('maria@example.com');
  // A bad value first: the API's error shows in the form, nothing is made.
  await expert.getByLabel('Assignee', { exact: true }).fill('nobody@nowhere');
  await expert.getByRole('button', { name: 'Create' }).click();
  await expert.getByRole('alert').filter({ hasText: 'assignee is not a user of this tenant' }).waitFor();
  await expert.getByLabel('Assignee', { exact: true }).fill('');
  await expert.getByRole('button', { name: 'Create' }).click();
  await expert.waitForURL(/\/desk\/INC-1$/);
  const heading = (await expert.getByTestId('record-title').textContent()) ?? '';
  assert.equal(heading, `INC-1: ${TITLE}`, 'the title is shown as typed, as text');
  assert.equal(await expert.getByTestId('record-description').textContent(), DESCRIPTION);
  assert.equal(await expert.evaluate(() => /** @type {any} */ (window).__pwned), undefined, 'no markup ran');
  assert.equal(await expert.locator('#app img').count(), 0, 'no image element was made');
  await expert.getByText('P2').first().waitFor();

  // --- The desk's list finds it by a word of its title.
  await expert.goto(`${ctx.base}/desk?q=printer`);
  await expert.getByRole('link', { name: 'INC-1' }).click();

  // --- A remote session from the incident: the console opens it, offers
  // to e-mail the link to the requester.
  await expert.getByTestId('start-remote').click();
  const codeText = (await expert.getByTestId('join-code').textContent()) ?? '';
  const code = codeText.replace(/\s/g, '');
  assert.match(code, /^\d{12}$/);
  const link = (await expert.getByTestId('join-link').getAttribute('href')) ?? '';
  const mail = (await expert.getByTestId('mail-link').getAttribute('href')) ?? '';
  assert.ok(mail.startsWith('mailto:maria%40example.com?'), mail);
  assert.ok(decodeURIComponent(mail).includes(link), 'the e-mail carries the join link');
  assert.equal(await expert.getByTestId('desk-record').textContent(), 'INC-1');

  // --- The agent joins; its user consents; they chat.
  const agent = new Child('agent', bin, ['agent', 'join', code, '--server', ctx.base, '--folder', share], { DISPLAY: display });
  try {
    await agent.line('the consent prompt', (l) => l.includes('asks to connect'), 60000);
    agent.send('y');
    await agent.line('the session indicator', (l) => l.startsWith('SESSION ACTIVE'));
    await until('the agent in the members', async () => (await expert.locator('[data-testid=members] li').count()) > 0);
    await expert.getByRole('textbox', { name: 'Message' }).fill('Hello, I will look at the printer queue.');
    await expert.getByRole('textbox', { name: 'Message' }).press('Enter');
    await agent.line('the expert\'s message', (l) => l.includes('Hello, I will look at the printer queue.'));
    agent.send('Thanks <b>a lot</b>, it still shows E-42');
    await expert.getByTestId('chat-log').filter({ hasText: 'Thanks <b>a lot</b>, it still shows E-42' }).waitFor();

    // --- The expert ends it; the record goes to the incident.
    await expert.getByTestId('end-session').click();
    await agent.line('the end', (l) => /ended/i.test(l), 30000);
    await expert.getByTestId('desk-attached').filter({ hasText: "The session's record is attached to INC-1." }).waitFor();
  } finally {
    agent.kill();
  }

  // --- The incident shows the session: members, duration, transcript.
  await expert.getByTestId('desk-record').click();
  await expert.waitForURL(/\/desk\/INC-1$/);
  const record = expert.getByTestId('session-record');
  await record.waitFor();
  const duration = (await record.getByTestId('session-duration').textContent()) ?? '';
  assert.match(duration, /^Duration: (\d+ min )?\d+ s /, duration);
  const transcript = (await record.getByTestId('transcript').textContent()) ?? '';
  assert.ok(transcript.includes('Administrator: Hello, I will look at the printer queue.'), transcript);
  assert.ok(transcript.includes('Thanks <b>a lot</b>, it still shows E-42'), 'the customer\'s line, as text');
  assert.equal(await record.locator('b').count(), 0, 'chat markup stays text');
  await shot(expert, 'desk-incident-desktop', { fullPage: true });
  const history = (await expert.getByTestId('history').textContent()) ?? '';
  assert.ok(history.includes('session_record'), 'the attachment is in the history');

  // --- And the desk moves it on from its page: a move without its
  // required field is refused, with it the state changes.
  const assign = expert.locator('form.move').filter({ has: expert.getByRole('button', { name: 'Assign' }) });
  await assign.getByRole('button', { name: 'Assign' }).click();
  await assign.getByRole('alert').filter({ hasText: /assignee/ }).waitFor();
  await assign.getByLabel('Assignee').fill('admin@localhost');
  await assign.getByRole('button', { name: 'Assign' }).click();
  await expert.getByTestId('record-state').filter({ hasText: 'Assigned' }).waitFor();
}
