// Drive Keyholder's Swagger UI in headless Chromium, as a person would:
// load /swagger-ui/, check the title and the operations, "Authorize" with a
// bearer token, then "Try it out" -> "Execute" on GET /api/v1/me.
//
//   BASE_URL=http://127.0.0.1:8080 node swagger-ui.mjs
//
// Environment:
//   BASE_URL          the running server (required)
//   CHROMIUM_PATH     browser executable (default /usr/bin/chromium)
//   ARTIFACTS_DIR     where screenshots go
//                     (default ${CARGO_TARGET_DIR:-<repo>/target}/browser-artifacts)
//   KH_BROWSER_TIMEOUT_MS  per-step timeout (default 30000)

import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const baseUrl = (process.env.BASE_URL || '').replace(/\/+$/, '');
if (!baseUrl) {
  console.error('BASE_URL is required, e.g. BASE_URL=http://127.0.0.1:8080 node swagger-ui.mjs');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR || 'target');
const artifacts = path.resolve(process.env.ARTIFACTS_DIR || path.join(targetDir, 'browser-artifacts'));
const stepTimeout = Number(process.env.KH_BROWSER_TIMEOUT_MS || 30000);

const log = (msg) => console.log(`[swagger-ui] ${msg}`);

class CheckFailed extends Error {}
function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

async function registerUser() {
  const suffix = Math.random().toString(36).slice(2, 10);
  const user = {
    email: `browser-${suffix}@example.com`,
    username: `browser_${suffix}`,
    password: `browser-password-${suffix}`,
    display_name: 'Browser Check',
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
  return { ...user, token: body.access_token };
}

async function main() {
  await mkdir(artifacts, { recursive: true });
  const user = await registerUser();
  log(`registered ${user.username}`);

  const userDataDir = await mkdtemp(path.join(tmpdir(), 'keyholder-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
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
  const pageErrors = [];
  const consoleErrors = [];
  let page;
  let step = 'launch';
  const shot = async (name) => {
    if (!page) return;
    const file = path.join(artifacts, `${name}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: stepTimeout });
      log(`screenshot ${file}`);
    } catch (e) {
      log(`could not save screenshot ${file}: ${e.message}`);
    }
  };

  try {
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(stepTimeout);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });

    step = 'load';
    const response = await page.goto(`${baseUrl}/swagger-ui/`, { waitUntil: 'load' });
    check(response && response.ok(), `GET /swagger-ui/ answered ${response && response.status()}`);

    step = 'title';
    const title = page.locator('.swagger-ui .info .title').first();
    await title.waitFor({ state: 'visible' });
    const titleText = (await title.innerText()).trim();
    log(`rendered title: ${JSON.stringify(titleText)}`);
    check(titleText.startsWith('Keyholder API'), `title is ${JSON.stringify(titleText)}, expected "Keyholder API"`);

    step = 'operations';
    for (const [method, p] of [
      ['post', '/api/v1/auth/register'],
      ['post', '/api/v1/auth/login'],
      ['get', '/api/v1/me'],
    ]) {
      const op = page.locator(`.opblock.opblock-${method}`, {
        has: page.locator(`.opblock-summary-path[data-path="${p}"]`),
      });
      await op.first().waitFor({ state: 'visible' });
      log(`operation ${method.toUpperCase()} ${p} is listed`);
    }
    const count = await page.locator('.opblock').count();
    log(`${count} operations rendered`);
    await shot('01-loaded');

    step = 'authorize';
    await page.locator('.scheme-container button.authorize, button.btn.authorize').first().click();
    const modal = page.locator('.modal-ux');
    await modal.waitFor({ state: 'visible' });
    await modal.locator('.auth-container input').first().fill(user.token);
    await shot('02-authorize-dialog');
    await modal.locator('button.modal-btn.auth.authorize').first().click();
    // Once authorized, the dialog offers "Logout" instead of "Authorize".
    await modal.locator('button.modal-btn.auth', { hasText: 'Logout' }).first().waitFor({ state: 'visible' });
    await modal.locator('button.btn-done, button.close-modal').first().click();
    await modal.waitFor({ state: 'hidden' });
    log('authorized with the bearer token');

    step = 'try GET /api/v1/me';
    const me = page
      .locator('.opblock.opblock-get', {
        has: page.locator('.opblock-summary-path[data-path="/api/v1/me"]'),
      })
      .first();
    await me.locator('.opblock-summary').first().click();
    await me.locator('button.try-out__btn').click();
    await me.locator('button.execute').click();
    const live = me.locator('.live-responses-table .response').first();
    await live.waitFor({ state: 'visible' });
    const status = (await live.locator('.response-col_status').first().innerText()).trim();
    const body = (await live.locator('.response-col_description .microlight, .response-col_description pre').first().innerText()).trim();
    await me.scrollIntoViewIfNeeded();
    await shot('03-get-me-executed');
    log(`GET /api/v1/me -> ${status}`);
    check(status === '200', `GET /api/v1/me answered ${status} in the UI: ${body}`);
    check(body.includes(`"${user.username}"`), `the response shown does not contain the username ${user.username}: ${body}`);
    const curl = await me.locator('.curl-command, .curl').first().innerText().catch(() => '');
    check(!curl || curl.includes('Authorization: Bearer'), `the curl example has no bearer header: ${curl}`);

    step = 'page errors';
    check(pageErrors.length === 0, `uncaught errors in the page: ${pageErrors.join(' | ')}`);
    if (consoleErrors.length) log(`console errors (not fatal): ${consoleErrors.join(' | ')}`);
    log('OK: Swagger UI renders, authorizes and executes GET /api/v1/me');
  } catch (e) {
    await shot('failure');
    if (pageErrors.length) log(`page errors: ${pageErrors.join(' | ')}`);
    if (consoleErrors.length) log(`console errors: ${consoleErrors.join(' | ')}`);
    throw new Error(`step "${step}": ${e.message}`, { cause: e });
  } finally {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[swagger-ui] FAILED: ${e.message}`);
    process.exit(1);
  },
);
