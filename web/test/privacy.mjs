// The data protection page, as a tenant administrator uses it: from the
// console's dashboard to /privacy; the restricted-data policy and session
// retention saved; an export made and downloaded (a tar whose manifest
// lists every entry); records deleted with the receipt shown once and a
// signed certificate to download; and finally the whole organisation
// deleted, its certificate still reachable with the receipt.
import assert from 'node:assert/strict';
import { firstSignIn } from './console.mjs';
import { shot, until } from './support.mjs';

/** The names of a tar's entries (ustar headers, 512-byte blocks). @param {Buffer} tar */
function tarNames(tar) {
  const names = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
    names.push(name);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

export default async function run(ctx) {
  const { FERNHAND_ADMIN_PASSWORD: first } = ctx.env;
  assert.ok(first, 'FERNHAND_ADMIN_PASSWORD is set');
  const admin = await ctx.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await firstSignIn(admin, ctx.base, first, 'an administrator who protects data');
  await admin.getByTestId('privacy-link').click();
  await admin.getByRole('heading', { name: 'Rules' }).waitFor();
  const rules = (await admin.getByRole('heading', { name: 'Rules' }).locator('..').textContent()) ?? '';
  assert.match(rules, /72 hours/);
  assert.match(rules, /90 days after the subscription ends/);
  assert.match(rules, /within 30 days/);

  // Settings.
  const settings = admin.getByTestId('settings');
  await settings.getByLabel(/Card numbers/).selectOption('mask');
  await settings.getByLabel(/Keep support-session records/).fill('30');
  const saved = admin.waitForEvent('load');
  await settings.getByRole('button', { name: 'Save' }).click();
  await saved;
  await admin.reload();
  assert.equal(await admin.getByLabel(/Card numbers/).inputValue(), 'mask', 'the policy as saved');
  assert.equal(await admin.getByLabel(/Keep support-session records/).inputValue(), '30');

  // A ticket to delete later.
  const ticket = await admin.evaluate(() =>
    import('/web/lib/api.js').then((api) => api.call('POST', '/api/v1/desk/records', { kind: 'incident', fields: { title: 'Broken dock in room 4' } })),
  );
  const reference = ticket.reference;
  assert.match(reference, /^INC-\d+$/);

  // Export: started, done, downloaded.
  const started = admin.waitForEvent('load');
  await admin.getByTestId('start-export').click();
  await started;
  await until(
    'the export done',
    async () => {
      await admin.reload();
      if (await admin.getByRole('link', { name: 'Download' }).count()) return true;
      throw new Error((await admin.getByTestId('exports').textContent()) ?? '');
    },
    60000,
  );
  const download = admin.waitForEvent('download');
  await admin.getByRole('link', { name: 'Download' }).click();
  const file = await (await download).path();
  const tar = (await import('node:fs')).readFileSync(file);
  const names = tarNames(tar);
  assert.equal(names.at(-1), 'manifest.json', `the manifest is last (${names.join(', ')})`);
  for (const n of ['tenant.json', 'tables/users.jsonl', 'tables/desk_records.jsonl', 'tables/audit_log.jsonl']) {
    assert.ok(names.includes(n), `${n} is in the archive`);
  }
  assert.ok(tar.includes(Buffer.from('Broken dock in room 4')), 'the ticket is in it');

  // Records deleted: the receipt is shown once, the certificate follows.
  const records = admin.getByTestId('delete-records');
  await records.getByLabel(/one per line/).fill(`${reference}\nINC-999`);
  await records.getByRole('button', { name: 'Request deletion' }).click();
  const receipt = admin.getByTestId('receipt');
  await receipt.waitFor();
  assert.match((await receipt.locator('code').textContent()) ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(new URL(admin.url()).hash, '', 'the receipt left the address bar');
  await shot(admin, 'privacy-desktop', { fullPage: true });
  await until(
    'the certificate',
    async () => {
      await admin.reload();
      if (await admin.getByRole('link', { name: 'Signed certificate' }).count()) return true;
      throw new Error((await admin.getByTestId('requests').textContent()) ?? '');
    },
    60000,
  );
  const cert = await admin.evaluate(async () => {
    const link = /** @type {HTMLAnchorElement} */ (document.querySelector('[data-testid=requests] a'));
    return (await fetch(link.href)).json();
  });
  const body = JSON.parse(cert.certificate);
  assert.equal(body.scope, 'records');
  assert.equal(body.deleted.desk_records, 1);
  assert.deepEqual(body.not_found, ['INC-999']);
  assert.ok(cert.signature && cert.public_key);
  const gone = await admin.evaluate((r) => fetch(`/api/v1/desk/records/${r}`).then((x) => x.status), reference);
  assert.equal(gone, 404);

  // The whole organisation: only after the box is ticked.
  const tenant = admin.getByTestId('delete-tenant');
  await tenant.getByRole('button', { name: 'Delete everything' }).click();
  assert.equal(await admin.getByTestId('receipt').isVisible(), false, 'the unticked form is not sent');
  await tenant.getByLabel('I understand that everything is deleted').check();
  await tenant.getByRole('button', { name: 'Delete everything' }).click();
  await admin.getByTestId('receipt').waitFor();
  assert.match(new URL(admin.url()).pathname, /^\/privacy\/receipt$/);
  const last = (await admin.getByTestId('receipt').locator('code').textContent()) ?? '';
  assert.match(last, /^[A-Za-z0-9_-]{43}$/);
  const id = (await admin.getByTestId('request').textContent()) ?? '';
  await until(
    'the organisation gone, its certificate kept',
    async () => {
      const r = await fetch(`${ctx.base}/api/v1/deletion-certificates/${id}`, { headers: { 'x-fernhand-receipt': last } });
      if (r.status !== 200) throw new Error(`certificate: ${r.status}`);
      const signed = await r.json();
      const c = JSON.parse(signed.certificate);
      assert.equal(c.scope, 'tenant');
      assert.equal(c.deleted.tenants, 1);
      return c;
    },
    60000,
  );
  const me = await fetch(`${ctx.base}/api/v1/me`, { headers: { cookie: (await admin.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } });
  assert.equal(me.status, 401, 'signed out: the organisation is gone');
}
