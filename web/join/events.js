// @ts-check
/**
 * What both customer pages (a remote support session and a camera share)
 * do with the session's own events: connecting, reconnecting, moved,
 * refused, closed — the same words and the same ending on both.
 * @module
 */

import { banner } from '../lib/ui.js';

/**
 * @typedef {object} CustomerPage
 * @property {(n: Node) => void} status  show a status line
 * @property {(text: string, kind: string) => void} finish  end the page's session view
 * @property {(why: string) => void} close  close the session
 * @property {string} what  `session` or `camera share`, for the messages
 * @property {string} wrongSecret  what to say when the code or link is wrong
 */

/**
 * Handles `e` if it is one of the session's own events; returns whether
 * it was.
 * @param {import('../lib/session/runtime.js').SessionEvent} e @param {CustomerPage} page
 */
export function sessionEvent(e, page) {
  switch (e.type) {
    case 'established':
      page.status(banner('warn', 'Connected securely. Waiting for your expert…'));
      return true;
    case 'reconnecting':
      page.status(banner('warn', 'Connection lost — reconnecting…'));
      return true;
    case 'moved':
      page.status(banner('good', 'Reconnected.'));
      return true;
    case 'join_refused':
      page.finish(e.reason === 'wrong_secret' ? page.wrongSecret : `The ${page.what} refused to let you in (${e.reason.replace(/_/g, ' ')}).`, 'bad');
      page.close('refused');
      return true;
    case 'closed':
      page.finish(`The ${page.what} ended (${e.reason}).`, 'warn');
      return true;
    default:
      return false;
  }
}
