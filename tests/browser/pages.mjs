// Drive Keyholder's three emailed-link pages in headless Chromium, as a person
// would: open the link from the delivered email, act on the page, and confirm
// the outcome through the JSON API.
//
//   BASE_URL=http://127.0.0.1:8080 MAIL_DIR=/path/to/mail BACKEND=sqlite node pages.mjs
//
// Scenarios (each in a fresh browser profile, each ending with a screenshot
// <artifacts>/pages-<backend>-<step>.png):
//   1 verify-email            register, open the verification link: "verified"
//   2 invitation-accept       open an asset invitation, check the offer, sign up
//                             on the page and accept; the API shows the access
//   3 invitation-decline      decline an invitation; a second visit: "declined"
//   4 invitation-expired      an invitation opened after its expiry: "expired"
//   5 password-reset          two different passwords: "mismatch"; then the
//                             same one twice: "password is changed"; the API
//                             accepts the new password and refuses the old one
// Every page must clear the token from the address bar, keep it out of URL
// queries and leave localStorage and sessionStorage empty.
//
// Environment (besides lib.mjs's BASE_URL, CHROMIUM_PATH, ARTIFACTS_DIR,
// KH_BROWSER_TIMEOUT_MS):
//   MAIL_DIR        the server's KEYHOLDER_MAIL_DIR (required); the server's
//                   KEYHOLDER_APP_URL must be BASE_URL
//   BACKEND         sqlite|postgres, used in screenshot names (default sqlite)
//   KH_PAGES_ONLY   comma-separated scenario numbers or names to run (default all)
//   KH_MAIL_TIMEOUT_MS  how long to wait for an email (default 15000)

import {
  CheckFailed,
  api,
  check,
  ensureDir,
  launchBrowser,
  logger,
  openPage,
  randomSuffix,
  reEscape,
  registerUser,
  screenshot,
  settings,
  waitForEmail,
} from './lib.mjs';

const config = settings('pages.mjs');
const { baseUrl, stepTimeout } = config;
const mailDir = process.env.MAIL_DIR || '';
if (!mailDir) {
  console.error('MAIL_DIR (the server\'s KEYHOLDER_MAIL_DIR) is required');
  process.exit(2);
}
const backend = process.env.BACKEND || 'sqlite';
const mailTimeout = Number(process.env.KH_MAIL_TIMEOUT_MS || 15000);
const only = (process.env.KH_PAGES_ONLY || '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const log = logger(`pages ${backend}`);
const seenMail = new Set();
const notes = []; // contract observations that do not fail the run

const VERIFY_STATES = ['verified', 'used', 'expired', 'invalid', 'error'];
const RESET_STATES = ['done', 'mismatch', 'weak', 'used', 'expired', 'invalid', 'error'];
const INVITATION_CLOSED_STATES = ['expired', 'cancelled', 'accepted', 'declined', 'invalid', 'error'];
const INVITATION_OUTCOMES = [
  'accepted',
  'declined',
  'wrong_account',
  'email_registered',
  'expired',
  'cancelled',
  'invalid',
  'error',
];

// ------------------------------------------------------------------ helpers

const call = (method, p, opts) => api(baseUrl, stepTimeout, method, p, opts);

async function callExpect(method, p, status, opts) {
  const res = await call(method, p, opts);
  check(res.status === status, `${method} ${p} answered ${res.status}, expected ${status}: ${res.text}`);
  return res.body;
}

/** Waits for the email and returns the token of its `<BASE_URL><route>#token=` link. */
async function linkToken(to, subject, route) {
  const pattern = new RegExp(`(\\S+?)${reEscape(route)}#token=([A-Za-z0-9_-]+)`);
  const mail = await waitForEmail(mailDir, { to, subject, bodyPattern: pattern, timeoutMs: mailTimeout, skip: seenMail });
  const [, linkBase, token] = mail.match;
  check(
    linkBase === baseUrl,
    `the emailed link points at ${linkBase}${route}, expected ${baseUrl}${route} (KEYHOLDER_APP_URL)`,
  );
  log(`email "${mail.subject}" to ${to}: link ${linkBase}${route}#token=…(${token.length} chars)`);
  return { token, url: `${baseUrl}${route}#token=${token}`, mail };
}

async function readResult(page) {
  return page.evaluate(() => {
    const el = document.querySelector('#result');
    if (!el) return { present: false, state: null, text: '', role: null };
    return {
      present: true,
      state: el.getAttribute('data-state'),
      text: (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim(),
      role: el.getAttribute('role'),
    };
  });
}

/** Waits until #result[data-state] is one of `states` (and not one of `not`). */
async function waitForState(page, states, what, { not = [] } = {}) {
  const wanted = states.filter((s) => !not.includes(s));
  try {
    await page.waitForFunction(
      ([wanted]) => {
        const el = document.querySelector('#result');
        const s = el && el.getAttribute('data-state');
        return !!s && wanted.includes(s);
      },
      [wanted],
      { timeout: stepTimeout, polling: 100 },
    );
  } catch (e) {
    const cur = await readResult(page).catch(() => ({}));
    throw new CheckFailed(
      `${what}: #result[data-state] did not become ${wanted.join('|')} within ${stepTimeout} ms;` +
        ` got ${cur.present === false ? 'no #result element' : `data-state=${JSON.stringify(cur.state)}, text ${JSON.stringify(cur.text)}`}`,
    );
  }
  return readResult(page);
}

/** The outcome in #result: the expected data-state, role="status" and the sentence. */
async function expectResult(page, states, expected, textPattern, what, opts) {
  const r = await waitForState(page, states, what, opts);
  log(`${what}: #result data-state=${r.state} text=${JSON.stringify(r.text)}`);
  check(
    r.state === expected,
    `${what}: #result[data-state] expected "${expected}", got "${r.state}" (text ${JSON.stringify(r.text)})`,
  );
  check(r.role === 'status', `${what}: #result[role] expected "status", got ${JSON.stringify(r.role)}`);
  if (textPattern) {
    check(
      textPattern.test(r.text),
      `${what}: #result text expected to match ${textPattern}, got ${JSON.stringify(r.text)}`,
    );
  }
  return r;
}

/** The token is gone from the address bar, from every request URL and from storage. */
async function expectNoTokenLeak(ctx, token, what) {
  const { page, requests } = ctx;
  const url = page.url();
  check(!url.includes(token), `${what}: the address bar still holds the token: ${url.replace(token, '<token>')}`);
  const state = await page.evaluate(() => ({
    hash: location.hash,
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
  }));
  check(!state.hash.includes('token'), `${what}: location.hash is ${JSON.stringify(state.hash.replace(token, '<token>'))}, expected it cleared`);
  check(state.local.length === 0, `${what}: localStorage is not empty: keys ${JSON.stringify(state.local)}`);
  check(state.session.length === 0, `${what}: sessionStorage is not empty: keys ${JSON.stringify(state.session)}`);
  for (const u of requests) {
    const withoutFragment = u.split('#')[0];
    check(!withoutFragment.includes(token), `${what}: a request URL carries the token: ${withoutFragment.replace(token, '<token>')}`);
  }
}

/** Opens an emailed link in the scenario's tab (always a new document). */
async function openLink(ctx, url, what) {
  const { page } = ctx;
  // A link differing from the current address only in its fragment would be a
  // same-document navigation: start from a blank page.
  await page.goto('about:blank');
  const response = await page.goto(url, { waitUntil: 'load' });
  const path = new URL(url).pathname;
  check(response && response.ok(), `${what}: GET ${path} answered ${response && response.status()}`);
  const type = response.headers()['content-type'] || '';
  check(type.startsWith('text/html'), `${what}: GET ${path} has Content-Type ${JSON.stringify(type)}, expected text/html`);
}

async function expectLabelled(page, selector, what) {
  const labelled = await page.locator(selector).evaluate(
    (el) =>
      (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) ||
      !!(el.getAttribute('aria-label') || '').trim() ||
      !!(el.getAttribute('aria-labelledby') || '').trim(),
  );
  check(labelled, `${what}: ${selector} has no label (no <label for>, aria-label or aria-labelledby)`);
}

function note(message) {
  notes.push(message);
  log(`NOTE: ${message}`);
}

const stepShot = (ctx, step) => screenshot(ctx.page, config, `pages-${backend}-${step}`, log);

// ------------------------------------------------------------------ fixture

let fixture; // the owner and the asset "Van 7", shared by scenarios 2 to 4

async function ownerAndVan() {
  if (fixture) return fixture;
  const s = randomSuffix();
  const owner = await registerUser(baseUrl, stepTimeout, {
    email: `owner-${s}@example.com`,
    username: `owner_${s}`,
    password: `owner-password-${s}`,
    display_name: `Olivia Owner ${s}`,
  });
  // Only a verified account may send invitations: follow the emailed link.
  const { token: verify } = await linkToken(owner.email, 'Confirm your email address for Keyholder', '/verify-email');
  await callExpect('POST', '/api/v1/auth/verify-email', 200, { json: { token: verify } });
  const asset = await callExpect('POST', '/api/v1/assets', 201, { token: owner.token, json: { name: 'Van 7' } });
  check(asset && asset.id && asset.name === 'Van 7', `POST /api/v1/assets answered ${JSON.stringify(asset)}`);
  log(`owner ${owner.username} ("${owner.display_name}") created asset Van 7 (${asset.id})`);
  fixture = { owner, asset };
  return fixture;
}

async function invite(email, permission, extra = {}) {
  const { owner, asset } = await ownerAndVan();
  const inv = await callExpect('POST', '/api/v1/asset-invitations', 201, {
    token: owner.token,
    json: { asset_id: asset.id, email, permission, ...extra },
  });
  const link = await linkToken(email, `${owner.display_name} invited you to Van 7 on Keyholder`, '/invitations/accept');
  return { inv, link, owner, asset };
}

/** Waits for the accept page to settle: the offer with its actions, or a closed state. */
async function waitForOffer(page, what) {
  try {
    await page.waitForFunction(
      ([closed]) => {
        const r = document.querySelector('#result');
        const s = r && r.getAttribute('data-state');
        if (s && closed.includes(s)) return true;
        const offer = document.querySelector('#offer');
        return !!offer && offer.offsetParent !== null && (offer.innerText || '').includes('Van 7');
      },
      [INVITATION_CLOSED_STATES],
      { timeout: stepTimeout, polling: 100 },
    );
  } catch {
    const cur = await readResult(page).catch(() => ({}));
    const offer = await page.locator('#offer').innerText({ timeout: 1000 }).catch(() => null);
    throw new CheckFailed(
      `${what}: neither an #offer naming "Van 7" nor a closed #result state appeared within ${stepTimeout} ms;` +
        ` #offer text ${JSON.stringify(offer)}, #result data-state=${JSON.stringify(cur.state)} text ${JSON.stringify(cur.text)}`,
    );
  }
  const offerText = ((await page.locator('#offer').innerText({ timeout: 1000 }).catch(() => '')) || '').replace(/\s+/g, ' ').trim();
  return { offerText, result: await readResult(page) };
}

// ---------------------------------------------------------------- scenarios

async function verifyEmail(ctx) {
  const user = await registerUser(baseUrl, stepTimeout);
  log(`registered ${user.username}`);
  const { token, url } = await linkToken(user.email, 'Confirm your email address for Keyholder', '/verify-email');

  await openLink(ctx, url, 'verify-email');
  await expectResult(ctx.page, VERIFY_STATES, 'verified', /verified/i, 'verify-email');
  await expectNoTokenLeak(ctx, token, 'verify-email');
  await stepShot(ctx, '1-verify-email-verified');

  // The API agrees: a new link is refused because the address is verified.
  const resend = await call('POST', '/api/v1/auth/verify-email/resend', { token: user.token });
  check(
    resend.status === 409 && resend.text.includes('already_verified'),
    `after the page said "verified", POST /auth/verify-email/resend answered ${resend.status}: ${resend.text}`,
  );
  log('the API reports the email as already verified');
}

async function invitationAccept(ctx) {
  const { page } = ctx;
  const s = randomSuffix();
  const email = `outsider-${s}@example.com`;
  const message = `The keys are in the blue box ${s}.`;
  const { link, owner, asset } = await invite(email, 'view', { message });

  await openLink(ctx, link.url, 'invitation (accept)');
  const { offerText, result } = await waitForOffer(page, 'invitation (accept)');
  log(`#offer: ${JSON.stringify(offerText)}`);
  check(
    !INVITATION_CLOSED_STATES.includes(result.state),
    `invitation (accept): a pending invitation shows #result data-state=${JSON.stringify(result.state)} (${JSON.stringify(result.text)}), expected the offer with its actions`,
  );
  check(offerText.includes('Van 7'), `#offer does not name the asset "Van 7": ${JSON.stringify(offerText)}`);
  check(offerText.includes(message), `#offer does not show the message ${JSON.stringify(message)}: ${JSON.stringify(offerText)}`);
  check(
    offerText.includes(owner.display_name),
    `#offer does not name the inviter ${JSON.stringify(owner.display_name)}: ${JSON.stringify(offerText)}`,
  );
  if (!/\bview/i.test(offerText)) note(`#offer does not mention the permission "view": ${JSON.stringify(offerText)}`);
  if (!/pending/i.test(offerText)) note(`#offer does not mention the status "pending": ${JSON.stringify(offerText)}`);
  await expectNoTokenLeak(ctx, link.token, 'invitation offer');
  await stepShot(ctx, '2-invitation-offer');

  const username = `outsider_${s}`;
  const password = `outsider-password-${s}`;
  await page.locator('#signup-username').fill(username);
  await page.locator('#signup-password').fill(password);
  if ((await page.locator('#signup-display-name').count()) > 0) {
    await page.locator('#signup-display-name').fill(`Oscar Outsider ${s}`);
  }
  await page.locator('#signup-accept').click();
  await expectResult(page, INVITATION_OUTCOMES, 'accepted', /You can now view\s+["“'‘]?Van 7/, 'sign up and accept');
  await expectNoTokenLeak(ctx, link.token, 'invitation accepted');
  await stepShot(ctx, '2-invitation-accepted');

  // The API agrees: the new account signs in and sees Van 7 with "view".
  const login = await callExpect('POST', '/api/v1/auth/login', 200, { json: { login: username, password } });
  check(login && login.access_token, `login answered ${JSON.stringify(login)}`);
  const garage = await callExpect('GET', '/api/v1/assets', 200, { token: login.access_token });
  const van = (garage.items || []).find((a) => a.id === asset.id);
  check(van, `GET /api/v1/assets of ${username} does not list Van 7 (${asset.id}): ${JSON.stringify(garage)}`);
  check(van.name === 'Van 7' && van.my_access === 'view', `Van 7 in ${username}'s garage: ${JSON.stringify(van)}, expected my_access "view"`);
  log(`the API lists Van 7 for ${username} with my_access "view"`);
}

async function invitationDecline(ctx) {
  const { page } = ctx;
  const s = randomSuffix();
  const email = `second-${s}@example.com`;
  const { link } = await invite(email, 'edit', { message: `Could you look after Van 7? ${s}` });

  await openLink(ctx, link.url, 'invitation (decline)');
  const { result } = await waitForOffer(page, 'invitation (decline)');
  check(
    !INVITATION_CLOSED_STATES.includes(result.state),
    `invitation (decline): a pending invitation shows #result data-state=${JSON.stringify(result.state)} (${JSON.stringify(result.text)}), expected the offer with its actions`,
  );
  await page.locator('#decline').click();
  await expectResult(page, INVITATION_OUTCOMES, 'declined', /declin/i, 'decline');
  await expectNoTokenLeak(ctx, link.token, 'invitation declined');
  await stepShot(ctx, '3-invitation-declined');

  // A second visit to the same link: the invitation is closed.
  await openLink(ctx, link.url, 'invitation (second visit)');
  await expectResult(page, INVITATION_CLOSED_STATES, 'declined', /declin/i, 'second visit after declining');
  const actions = await page.locator('#signin-accept:visible, #signup-accept:visible, #decline:visible').count();
  if (actions > 0) note(`a declined invitation still shows ${actions} visible action button(s) (#signin-accept/#signup-accept/#decline)`);
  await expectNoTokenLeak(ctx, link.token, 'invitation second visit');
  await stepShot(ctx, '3-invitation-declined-second-visit');
}

async function invitationExpired(ctx) {
  const s = randomSuffix();
  const email = `late-${s}@example.com`;
  const expiresAt = new Date(Date.now() + 3000);
  const { link } = await invite(email, 'view', { expires_at: expiresAt.toISOString() });
  const wait = expiresAt.getTime() + 1000 - Date.now();
  if (wait > 0) {
    log(`waiting ${wait} ms for the invitation to expire`);
    await new Promise((r) => setTimeout(r, wait));
  }
  await openLink(ctx, link.url, 'invitation (expired)');
  await expectResult(ctx.page, INVITATION_CLOSED_STATES, 'expired', /expired/i, 'expired invitation');
  await expectNoTokenLeak(ctx, link.token, 'invitation expired');
  await stepShot(ctx, '4-invitation-expired');
}

async function passwordReset(ctx) {
  const { page } = ctx;
  const user = await registerUser(baseUrl, stepTimeout);
  log(`registered ${user.username}`);
  await callExpect('POST', '/api/v1/auth/password-reset', 202, { json: { email: user.email } });
  const { token, url } = await linkToken(user.email, 'Reset your Keyholder password', '/reset-password');

  await openLink(ctx, url, 'reset-password');
  await page.locator('#password').waitFor({ state: 'visible' });
  await expectLabelled(page, '#password', 'reset-password');
  await expectLabelled(page, '#password2', 'reset-password');
  await expectNoTokenLeak(ctx, token, 'reset-password form');

  const newPassword = `new-password-${randomSuffix()}`;
  await page.locator('#password').fill(newPassword);
  await page.locator('#password2').fill(`${newPassword}-typo`);
  await page.locator('#submit').click();
  await expectResult(page, RESET_STATES, 'mismatch', null, 'two different passwords');
  await stepShot(ctx, '5-reset-password-mismatch');

  await page.locator('#password').fill(newPassword);
  await page.locator('#password2').fill(newPassword);
  await page.locator('#submit').click();
  await expectResult(page, RESET_STATES, 'done', /password is changed/i, 'the same password twice', { not: ['mismatch'] });
  await expectNoTokenLeak(ctx, token, 'reset-password done');
  await stepShot(ctx, '5-reset-password-done');

  // The API agrees: the new password works, the old one does not.
  const fresh = await call('POST', '/api/v1/auth/login', { json: { login: user.username, password: newPassword } });
  check(fresh.status === 200, `login with the new password answered ${fresh.status}: ${fresh.text}`);
  const old = await call('POST', '/api/v1/auth/login', { json: { login: user.username, password: user.password } });
  check(old.status === 401, `login with the old password answered ${old.status}, expected 401: ${old.text}`);
  log('the API accepts the new password (200) and refuses the old one (401)');
}

const SCENARIOS = [
  { n: '1', name: 'verify-email', run: verifyEmail },
  { n: '2', name: 'invitation-accept', run: invitationAccept },
  { n: '3', name: 'invitation-decline', run: invitationDecline },
  { n: '4', name: 'invitation-expired', run: invitationExpired },
  { n: '5', name: 'password-reset', run: passwordReset },
];

// --------------------------------------------------------------------- main

async function runScenario(sc) {
  const started = Date.now();
  const browser = await launchBrowser(config);
  let ctx;
  try {
    const opened = await openPage(browser.context, stepTimeout, { consoleLocation: true });
    const requests = [];
    const httpErrors = [];
    opened.page.on('request', (r) => requests.push(r.url()));
    opened.page.on('response', (r) => {
      if (r.status() >= 400) {
        const u = new URL(r.url());
        httpErrors.push(`${r.request().method()} ${u.pathname} -> ${r.status()}`);
      }
    });
    opened.page.on('dialog', async (d) => {
      log(`${d.type()} dialog ${JSON.stringify(d.message())}: accepting`);
      await d.accept().catch(() => {});
    });
    ctx = { ...opened, requests, httpErrors };
    await sc.run(ctx);
    check(ctx.pageErrors.length === 0, `uncaught errors in the page: ${ctx.pageErrors.join(' | ')}`);
    if (ctx.consoleErrors.length) log(`console errors (not fatal): ${ctx.consoleErrors.join(' | ')}`);
    if (httpErrors.length) log(`HTTP errors seen by the page (not fatal): ${httpErrors.join(' | ')}`);
    return { ok: true, ms: Date.now() - started };
  } catch (e) {
    if (ctx) {
      await screenshot(ctx.page, config, `pages-${backend}-${sc.n}-${sc.name}-failure`, log);
      if (ctx.pageErrors.length) log(`page errors: ${ctx.pageErrors.join(' | ')}`);
      if (ctx.consoleErrors.length) log(`console errors: ${ctx.consoleErrors.join(' | ')}`);
      if (ctx.httpErrors.length) log(`HTTP errors seen by the page: ${ctx.httpErrors.join(' | ')}`);
    }
    return { ok: false, ms: Date.now() - started, error: e };
  } finally {
    await browser.close();
  }
}

async function main() {
  await ensureDir(config.artifacts);
  const chosen = SCENARIOS.filter((sc) => !only.length || only.includes(sc.n) || only.includes(sc.name));
  check(chosen.length > 0, `KH_PAGES_ONLY=${only.join(',')} selects no scenario`);
  const results = [];
  for (const sc of chosen) {
    log(`--- ${sc.n} ${sc.name}`);
    const r = await runScenario(sc);
    results.push({ sc, ...r });
    if (r.ok) log(`OK ${sc.n} ${sc.name} (${(r.ms / 1000).toFixed(1)} s)`);
    else log(`FAILED ${sc.n} ${sc.name} (${(r.ms / 1000).toFixed(1)} s): ${r.error.message}`);
  }
  log('summary:');
  for (const r of results) {
    log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.sc.n} ${r.sc.name.padEnd(20)} ${(r.ms / 1000).toFixed(1)} s${r.ok ? '' : `  ${r.error.message}`}`);
  }
  for (const n of notes) log(`  note: ${n}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} of ${results.length} scenario(s) failed: ${failed.map((r) => r.sc.name).join(', ')}`);
  log(`OK: all ${results.length} page scenarios pass on ${backend}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[pages ${backend}] FAILED: ${e.message}`);
    process.exit(1);
  },
);
