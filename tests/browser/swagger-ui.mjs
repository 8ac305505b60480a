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

import {
  check,
  ensureDir,
  launchBrowser,
  logger,
  openPage,
  registerUser as registerWith,
  screenshot,
  settings,
} from './lib.mjs';

const config = settings('swagger-ui.mjs');
const { baseUrl, stepTimeout } = config;

const log = logger('swagger-ui');

const registerUser = () => registerWith(baseUrl, stepTimeout);

async function main() {
  await ensureDir(config.artifacts);
  const user = await registerUser();
  log(`registered ${user.username}`);

  const browser = await launchBrowser(config);
  const { context } = browser;
  let pageErrors = [];
  let consoleErrors = [];
  let page;
  let step = 'launch';
  const shot = (name) => screenshot(page, config, name, log);

  try {
    ({ page, pageErrors, consoleErrors } = await openPage(context, stepTimeout));

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
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[swagger-ui] FAILED: ${e.message}`);
    process.exit(1);
  },
);
