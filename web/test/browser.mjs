// Starts the machine's Chromium (Debian's package; never a downloaded
// browser) through playwright-core, and serves this folder's test modules
// on the server's own origin so the page can import them beside the
// product's modules.
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

/** Flags for a headless Chromium on a closed network, as root in CI. */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** @param {string[]} [extra] */
export async function launch(extra = []) {
  const executablePath = process.env.FERNHAND_CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS, ...extra], headless: true });
}

/**
 * A headed Chromium on an X display (Xvfb in tests), for what headless
 * Chromium cannot do: capturing a screen with `getDisplayMedia`. The
 * screen picker is answered by the flag, as a user choosing their screen.
 * @param {string} display
 * @param {{ x: number, y: number, width: number, height: number }} [window] where its window goes
 */
export async function launchOnDisplay(display, window = { x: 300, y: 300, width: 520, height: 460 }) {
  const executablePath = process.env.FERNHAND_CHROMIUM || '/usr/bin/chromium';
  const args = [
    ...CHROMIUM_FLAGS.filter((f) => !f.startsWith('--headless')),
    '--auto-select-desktop-capture-source=Entire screen',
    `--window-position=${window.x},${window.y}`,
    `--window-size=${window.width},${window.height}`,
  ];
  return chromium.launch({ executablePath, args, headless: false, env: { ...process.env, DISPLAY: display } });
}

/**
 * Answer `/web/test/*` requests of `context` from this folder, so test code
 * runs in the page without being part of the product.
 * @param {import('playwright-core').BrowserContext} context
 */
export async function serveTestModules(context) {
  await context.route('**/web/test/**', async (route) => {
    const url = new URL(route.request().url());
    const rel = normalize(url.pathname.replace(/^\/web\/test\//, ''));
    if (rel.startsWith('..')) return route.fulfill({ status: 404, body: 'not found' });
    try {
      const body = await readFile(join(here, rel));
      return route.fulfill({ status: 200, contentType: 'text/javascript', body });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
}

/** Send the page's console and errors to ours, for failing runs. @param {import('playwright-core').Page} page @param {string} name */
export function echo(page, name) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning' || process.env.FERNHAND_BROWSER_VERBOSE) {
      console.error(`[${name} ${m.type()}] ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => console.error(`[${name} pageerror] ${e.message}`));
}
