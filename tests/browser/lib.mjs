// Shared helpers of the headless-Chromium checks (swagger-ui.mjs, pages.mjs):
// the environment, the browser launch, screenshots, small JSON-API calls and
// reading the emails the server writes into its KEYHOLDER_MAIL_DIR.
//
// Environment:
//   BASE_URL               the running server (required)
//   CHROMIUM_PATH          browser executable (default /usr/bin/chromium)
//   ARTIFACTS_DIR          where screenshots go
//                          (default ${CARGO_TARGET_DIR:-<repo>/target}/browser-artifacts)
//   KH_BROWSER_TIMEOUT_MS  per-step timeout (default 30000)

import { mkdtemp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

/** The settings every check reads from the environment; exits 2 without BASE_URL. */
export function settings(script) {
  const baseUrl = (process.env.BASE_URL || '').replace(/\/+$/, '');
  if (!baseUrl) {
    console.error(`BASE_URL is required, e.g. BASE_URL=http://127.0.0.1:8080 node ${script}`);
    process.exit(2);
  }
  const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR || 'target');
  return {
    baseUrl,
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    artifacts: path.resolve(process.env.ARTIFACTS_DIR || path.join(targetDir, 'browser-artifacts')),
    stepTimeout: Number(process.env.KH_BROWSER_TIMEOUT_MS || 30000),
  };
}

export const logger = (tag) => (msg) => console.log(`[${tag}] ${msg}`);

export class CheckFailed extends Error {}
export function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/**
 * Headless Chromium with a fresh, temporary profile. Returns the persistent
 * context and `close()`, which closes the browser and removes the profile.
 */
export async function launchBrowser({ executablePath, stepTimeout }) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'keyholder-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
      timeout: stepTimeout,
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  const close = async () => {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  };
  return { context, close };
}

/**
 * The first tab of the context, with the step timeout and error collectors.
 * With `consoleLocation`, each console error names the URL it came from.
 */
export async function openPage(context, stepTimeout, { consoleLocation = false } = {}) {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(stepTimeout);
  const pageErrors = [];
  const consoleErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = consoleLocation && m.location() && m.location().url;
    consoleErrors.push(where ? `${m.text()} (${where})` : m.text());
  });
  return { page, pageErrors, consoleErrors };
}

/** A full-page screenshot as <artifacts>/<name>.png; never throws. */
export async function screenshot(page, { artifacts, stepTimeout }, name, log) {
  if (!page) return;
  const file = path.join(artifacts, `${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: stepTimeout });
    log(`screenshot ${file}`);
  } catch (e) {
    log(`could not save screenshot ${file}: ${e.message}`);
  }
}

export async function ensureDir(dir) {
  await mkdir(dir, { recursive: true });
}

export const randomSuffix = () => Math.random().toString(36).slice(2, 10);

/**
 * One JSON API call. Returns { status, body (parsed JSON or null), text }.
 */
export async function api(baseUrl, stepTimeout, method, p, { token, json } = {}) {
  const headers = { Accept: 'application/json' };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(stepTimeout),
  });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.status, body, text };
}

/** Registers a fresh user (201 expected); returns the user with `token`. */
export async function registerUser(baseUrl, stepTimeout, fields = {}) {
  const suffix = randomSuffix();
  const user = {
    email: `browser-${suffix}@example.com`,
    username: `browser_${suffix}`,
    password: `browser-password-${suffix}`,
    display_name: 'Browser Check',
    ...fields,
  };
  const res = await fetch(`${baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(user),
    signal: AbortSignal.timeout(stepTimeout),
  });
  const text = await res.text();
  check(res.status === 201, `register answered ${res.status}: ${text}`);
  const body = JSON.parse(text);
  check(typeof body.access_token === 'string' && body.access_token, `no access_token in ${text}`);
  return { ...user, token: body.access_token, id: body.user && body.user.id };
}

// ------------------------------------------------------------------- email

/** Decodes RFC 2047 encoded words (=?charset?B|Q?...?=) in a header value. */
function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between encoded words is dropped
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset, enc, text) => {
      if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text
        .replace(/_/g, ' ')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}

/** Quoted-printable: drops `=\r\n` soft line breaks, decodes `=XX` (as UTF-8). */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A single-part RFC 822 message: { headers (lower-case names), subject, to, body }. */
export function parseEmail(raw) {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep < 0 ? raw : raw.slice(0, sep);
  let body = sep < 0 ? '' : raw.slice(sep).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeHeader(line.slice(colon + 1).trim());
  }
  const cte = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  if (cte === 'quoted-printable') body = decodeQuotedPrintable(body);
  else if (cte === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, subject: headers.subject || '', to: headers.to || '', body: body.replace(/\r\n/g, '\n') };
}

/**
 * Polls `mailDir` until an email to `to` whose subject satisfies `subject`
 * (a string: equal; a RegExp: matches) and whose body matches `bodyPattern`
 * arrives. Returns { file, subject, to, body, match }. Files in `skip` (a Set)
 * are ignored, and the file found is added to it.
 */
export async function waitForEmail(mailDir, { to, subject, bodyPattern, timeoutMs = 15000, skip = new Set() }) {
  const deadline = Date.now() + timeoutMs;
  const subjectOk = (s) => (subject instanceof RegExp ? subject.test(s) : s === subject);
  const seen = [];
  for (;;) {
    seen.length = 0;
    let names = [];
    try {
      names = (await readdir(mailDir)).filter((n) => n.endsWith('.eml')).sort();
    } catch {
      names = [];
    }
    for (const name of names) {
      const file = path.join(mailDir, name);
      if (skip.has(file)) continue;
      let mail;
      try {
        mail = parseEmail(await readFile(file, 'utf8'));
      } catch {
        continue; // still being written
      }
      seen.push(`${mail.to}: ${mail.subject}`);
      if (!mail.to.toLowerCase().includes(to.toLowerCase()) || !subjectOk(mail.subject)) continue;
      const match = bodyPattern ? mail.body.match(bodyPattern) : [];
      if (!match) continue; // possibly a partly written file: read it again
      skip.add(file);
      return { file, ...mail, match };
    }
    if (Date.now() > deadline) {
      throw new CheckFailed(
        `no email to ${to} with subject ${subject} within ${timeoutMs} ms in ${mailDir}` +
          ` (${seen.length} other email(s): ${seen.join(' | ') || 'none'})`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Escapes a string for use inside a RegExp. */
export const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
