// Runs browser tests against a running `fernhand server`:
//   node test/run.mjs --base http://127.0.0.1:8080 e2e-layer [more tests…]
// Each test is a module of this folder exporting a default async function
// that gets { base, browser, newPage, vectors, env }. Exits nonzero when
// any test fails.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { echo, launch, serveTestModules } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let base = process.env.FERNHAND_BASE || 'http://127.0.0.1:8080';
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base') base = args[++i];
  else names.push(args[i]);
}
const vectors = process.env.FERNHAND_VECTORS || resolve(here, '../../../shared/vectors/crypto-test-vectors.json');

const browser = await launch((process.env.FERNHAND_CHROMIUM_FLAGS || '').split(' ').filter(Boolean));
let failed = 0;
try {
  for (const name of names) {
    const started = Date.now();
    const contexts = [];
    const newPage = async (/** @type {any} */ options = {}) => {
      const context = await browser.newContext(options);
      contexts.push(context);
      await serveTestModules(context);
      const page = await context.newPage();
      echo(page, `${name}#${contexts.length}`);
      return page;
    };
    try {
      const test = await import(join(here, `${name}.mjs`));
      await test.default({ base, browser, newPage, vectors, env: process.env });
      console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e instanceof Error ? e.stack : e}`);
    } finally {
      for (const c of contexts) await c.close().catch(() => {});
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
