// @ts-check
/**
 * The control plane's JSON API as the pages use it: the browser's cookie
 * session plus the CSRF token the sign-in returned (kept in this tab's
 * sessionStorage only), and errors as typed `ApiError`s carrying the
 * problem document's status, code and detail.
 * @module
 */

const CSRF_KEY = 'fernhand.csrf';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} detail */
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} method @param {string} path @param {any} [body] JSON, or a Blob sent as is
 * @param {Record<string, string>} [headers]
 * @returns {Promise<any>}
 */
export async function call(method, path, body, headers = {}) {
  const h = { ...headers };
  const raw = body instanceof Blob;
  if (body !== undefined) h['content-type'] = raw ? 'application/octet-stream' : 'application/json';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (csrf && method !== 'GET') h['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'unreachable', 'The server cannot be reached. Check the connection and try again.');
  }
  const text = await response.text();
  /** @type {any} */
  let value = null;
  if (text) {
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, value?.code ?? value?.title ?? '', value?.detail ?? value?.title ?? '');
  }
  return value;
}

/** Sign in; keeps the CSRF token for this tab. @param {string} tenant @param {string} email @param {string} password */
export async function signIn(tenant, email, password) {
  sessionStorage.removeItem(CSRF_KEY);
  const answer = await call('POST', '/api/v1/auth/login', { tenant, email, password });
  if (answer?.csrf_token) sessionStorage.setItem(CSRF_KEY, answer.csrf_token);
  return answer;
}

export async function signOut() {
  try {
    await call('POST', '/api/v1/auth/logout', {});
  } finally {
    sessionStorage.removeItem(CSRF_KEY);
  }
}

export function hasSession() {
  return sessionStorage.getItem(CSRF_KEY) !== null;
}

/**
 * A ticket from the broker for the member holding `grant`.
 * @param {string} grant @param {string | null} failedRelay
 * @returns {Promise<{ relay: string, url: string, ticket: string, member: number, expires_at: string }>}
 */
export function ticket(grant, failedRelay) {
  return call('POST', '/broker/v1/tickets', failedRelay ? { failed_relay: failedRelay } : {}, {
    authorization: `Bearer ${grant}`,
  });
}

/**
 * Raise a security event about the session of `grant` (this page received
 * a file its malware check stopped): the threat and the file's SHA-256,
 * never the file or its name. Failures are not the user's problem: the
 * sender was told either way.
 * @param {string} grant @param {{ kind: string, threat: string, sha256: string }} event
 */
export async function reportSessionEvent(grant, event) {
  try {
    await call('POST', '/api/v1/session-events', event, { authorization: `Bearer ${grant}` });
  } catch (e) {
    console.warn('the security event did not reach the server', e);
  }
}
