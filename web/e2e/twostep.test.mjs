// @ts-check
// The browser test: the built app, served by the real Go server (at /app/),
// sending codes through the real Twilio client to the Verify emulator, driven
// in Debian's Chromium at phone size. Screenshots land in e2e/artifacts/.
//
// Run with `npm run e2e` (builds first) or, after `npm run build`,
// `node --test e2e/`. Environment: CHROMIUM_PATH (default /usr/bin/chromium),
// TWOSTEP_BIN (a prebuilt server binary; default: go build).
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, goBuild, start, stop, tempDir, waitForHTTP } from './harness.mjs';

const webDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = path.resolve(webDir, '..');
const distDir = path.join(webDir, 'dist');
const artifacts = path.join(webDir, 'e2e', 'artifacts');

// Unique per run, so reruns against a kept database cannot collide.
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const email = `e2e-${runId}@example.com`;
const password = 'correct horse battery staple 7';
const phone = `+1415555${String(randomInt(0, 10_000)).padStart(4, '0')}`;

/** @type {string[]} */
const pageErrors = [];

/** @type {{ base: string, emulator: string, page: import('playwright-core').Page }} */
let env;

// Undo steps, registered as each thing starts, so that a start-up that fails
// half-way still stops what it started. Run last-first.
/** @type {(() => Promise<unknown>)[]} */
const cleanups = [];

before(async () => {
  assert.ok(existsSync(path.join(distDir, 'index.html')), 'web/dist is missing: run `npm run build` first');
  await mkdir(artifacts, { recursive: true });
  const tmp = await tempDir();
  cleanups.push(tmp.cleanup);
  const bin = process.env.TWOSTEP_BIN || (await goBuild(repoDir, tmp.dir));
  const [port, emuPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const emulator = `http://127.0.0.1:${emuPort}`;
  // A minimal environment, and a temp dir as working directory, so neither a
  // developer's shell variables nor a .env file can change the server.
  const common = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp.dir };

  const emuLog = path.join(artifacts, 'emulator.log');
  const emu = start(bin, ['verify-emulator', '-addr', `127.0.0.1:${emuPort}`], { cwd: tmp.dir, env: common, logFile: emuLog });
  cleanups.push(() => stop(emu));
  // 404 is the emulator's "no code sent to that number yet": it is up.
  await waitForHTTP(`${emulator}/_emulator/code?to=%2B10000000000`, (s) => s === 404, { child: emu, logFile: emuLog });

  const serverLog = path.join(artifacts, 'server.log');
  const server = start(bin, [], {
    cwd: tmp.dir,
    logFile: serverLog,
    env: {
      ...common,
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(tmp.dir, 'e2e.db')}`,
      JWT_SECRET: randomBytes(32).toString('hex'),
      TWILIO_API_URL: emulator,
      TWILIO_ACCOUNT_SID: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      TWILIO_AUTH_TOKEN: 'emulatorauthtoken0000000000000000',
      TWILIO_VERIFY_SID: 'VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      WEB_DIR: distDir,
      CORS_ALLOWED_ORIGINS: base,
      // The test signs in to one phone three times within seconds.
      LIMIT_PHONE_COOLDOWN: '0',
      // The cheapest bcrypt: two shared cores, and no secrets worth hashing.
      BCRYPT_COST: '4',
    },
  });
  cleanups.push(() => stop(server));
  await waitForHTTP(`${base}/readyz`, (s) => s === 200, { child: server, logFile: serverLog });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    // Playwright gives each launch a fresh temporary profile. --no-sandbox
    // because CI runs as root; the rest keep Chromium off the network.
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
  });
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // Errors the person never sees still count: a CSP violation, a failed
  // asset, an exception in a handler.
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => pageErrors.push(`exception: ${err.message}`));

  env = { base, emulator, page };
}, { timeout: 10 * 60_000 });

after(async () => {
  for (const undo of cleanups.reverse()) await undo().catch((err) => console.error('cleanup:', err));
});

/** shot saves a full-page screenshot as a test artifact. */
async function shot(/** @type {string} */ name) {
  await env.page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * step runs one part of the story, saving a screenshot of the page as it was
 * when a step fails: the picture usually says why.
 * @param {string} name
 * @param {() => Promise<void>} fn
 */
function step(name, fn) {
  it(name, async () => {
    try {
      await fn();
    } catch (err) {
      await shot(`FAILED-${name.replace(/\W+/g, '-')}`).catch(() => {});
      throw err;
    }
  });
}

/** codeSentTo reads the code the emulator "sent" to a phone. */
async function codeSentTo(/** @type {string} */ to) {
  const res = await fetch(`${env.emulator}/_emulator/code?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200, `no code sent to ${to}`);
  const body = /** @type {{ code: string }} */ (await res.json());
  return body.code;
}

const headings = /** @type {Record<string, string>} */ ({
  '/app/login': 'Sign in',
  '/app/verify': 'Enter your code',
  '/app/welcome': 'Welcome',
});

/**
 * expectPage waits for the URL and then for the page itself: React Router
 * changes the URL before React has rendered the new page.
 */
async function expectPage(/** @type {string} */ pathname) {
  await env.page.waitForURL((url) => url.pathname === pathname);
  await env.page.getByRole('heading', { level: 1, name: headings[pathname], exact: true }).waitFor();
}

async function heading() {
  return env.page.getByRole('heading', { level: 1 }).innerText();
}

async function signIn() {
  const { page } = env;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  // The keyboard way: Enter in the last field submits the form.
  await page.getByLabel('Password').press('Enter');
  await expectPage('/app/verify');
}

async function storageText() {
  return env.page.evaluate(() =>
    JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage }, history: history.state, url: location.href }),
  );
}

describe('two-step login in a browser', { concurrency: false }, () => {
  step('the app and the server share one Content-Security-Policy', async () => {
    const res = await fetch(`${env.base}/app/`);
    const header = res.headers.get('content-security-policy') ?? '';
    const html = await res.text();
    const meta = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1]?.replaceAll('&#39;', "'");
    assert.ok(meta, 'index.html carries the policy in a meta tag');
    // The meta tag is the header without frame-ancestors, which only a header can set.
    const withoutFraming = header.split(';').map((d) => d.trim()).filter((d) => d && !d.startsWith('frame-ancestors')).join('; ');
    assert.equal(meta, withoutFraming);
    assert.match(header, /frame-ancestors 'none'/);
  });

  step('register shows the server input error at its field', async () => {
    const { page } = env;
    await page.goto(`${env.base}/app/register`);
    assert.equal(await heading(), 'Create an account');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Mobile phone number').fill('12345');
    await page.getByRole('button', { name: 'Create account' }).click();

    const phoneInput = page.getByLabel('Mobile phone number');
    await page.locator('#phone-error:not(:empty)').waitFor();
    assert.equal(await phoneInput.getAttribute('aria-invalid'), 'true');
    assert.match(String(await phoneInput.getAttribute('aria-describedby')), /phone-error/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'phone', 'focus moves to the field to fix');
    await shot('01-register-invalid-phone');
  });

  step('register creates the account and asks to sign in', async () => {
    const { page } = env;
    await page.getByLabel('Mobile phone number').fill(phone.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '+1 $1 $2 $3'));
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectPage('/app/login');
    assert.match(await page.getByRole('status').first().innerText(), /account is ready/);
    assert.equal(await page.getByLabel('Email').inputValue(), email);
    await shot('02-login');
  });

  step('register again with the same email shows EMAIL_TAKEN at the email', async () => {
    const { page } = env;
    await page.goto(`${env.base}/app/register`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Mobile phone number').fill(phone);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#email-error:not(:empty)').waitFor();
    assert.match(await page.locator('#email-error').innerText(), /already exists/);
    await shot('03-register-email-taken');
  });

  step('a wrong password says so plainly', async () => {
    const { page } = env;
    await page.goto(`${env.base}/app/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[role=alert]:not(:empty)').waitFor();
    assert.equal(await page.getByRole('alert').innerText(), 'The email or password is wrong.');
    assert.equal(
      await page.evaluate(() => document.activeElement?.textContent),
      'Sign in',
      'focus stays on the button (a disabled button would drop it to the page top)',
    );
    await shot('04-login-wrong-password');
  });

  /** @type {string} */
  let mfaToken = '';

  step('the password step leads to the code step, keeping the mfaToken in memory only', async () => {
    const { page } = env;
    const loginAnswer = page.waitForResponse(
      (res) => res.url().endsWith('/graphql') && (res.request().postData() ?? '').includes('"operationName":"Login"'),
    );
    await signIn();
    const body = await (await loginAnswer).json();
    mfaToken = body.data.login.mfaToken;
    assert.ok(mfaToken, 'login answered an mfaToken');

    assert.equal(await heading(), 'Enter your code');
    const sentTo = await page.locator('strong').first().innerText();
    assert.match(sentTo, /\*/, 'the number is shown masked');
    assert.ok(!sentTo.includes(phone.slice(2, 8)), 'the full number is not shown');
    assert.match(await page.getByRole('timer').innerText(), /^\d+:\d\d$/);

    const code = page.getByLabel('Code');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code');
    assert.ok(!(await storageText()).includes(mfaToken), 'mfaToken is not in storage, history or the URL');
    await shot('05-verify');
  });

  step('a wrong code shows the attempts left', async () => {
    const { page } = env;
    const right = await codeSentTo(phone);
    const wrong = right.replace(/\d/g, (d) => String((Number(d) + 1) % 10));
    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#code-error:not(:empty)').waitFor();
    assert.match(await page.locator('#code-error').innerText(), /That code is wrong\. You have 4 attempts left\./);
    assert.equal(await page.getByLabel('Code').inputValue(), '', 'the wrong code is cleared');
    await shot('06-verify-wrong-code');
  });

  step('the right code signs in and the welcome page shows me', async () => {
    const { page } = env;
    await page.getByLabel('Code').fill(await codeSentTo(phone));
    await page.getByLabel('Code').press('Enter');
    await expectPage('/app/welcome');
    await page.getByText(email).waitFor();
    assert.equal(await heading(), 'Welcome');
    const stored = JSON.parse(await storageText());
    assert.equal(Object.keys(stored.local).length, 0, 'nothing in localStorage');
    assert.match(JSON.stringify(stored.session), /accessToken/, 'token kept in sessionStorage');
    await shot('07-welcome');
  });

  step('a reload keeps the person signed in', async () => {
    const { page } = env;
    await page.reload();
    await page.getByText(email).waitFor();
    assert.equal(await heading(), 'Welcome');
  });

  step('the used mfaToken is spent', async () => {
    // The app forgets it, so ask the API directly: a finished challenge must
    // not be replayable.
    const res = await fetch(`${env.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($i: VerifyOtpInput!) { verifyOtp(input: $i) { accessToken } }',
        variables: { i: { mfaToken, code: await codeSentTo(phone) } },
      }),
    });
    const body = await res.json();
    assert.equal(body.errors?.[0]?.extensions?.code, 'MFA_TOKEN_INVALID', JSON.stringify(body));
  });

  step('sign-out forgets the token', async () => {
    const { page } = env;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectPage('/app/login');
    assert.equal(await page.getByRole('status').first().innerText(), 'You have signed out.');
    assert.doesNotMatch(await storageText(), /accessToken/);
    await shot('08-signed-out');

    await page.goto(`${env.base}/app/welcome`);
    await expectPage('/app/login');
  });

  step('a verified number cannot be registered again: PHONE_TAKEN at the phone', async () => {
    const { page } = env;
    await page.goto(`${env.base}/app/register`);
    await page.getByLabel('Email').fill(`other-${email}`);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Mobile phone number').fill(phone);
    await page.getByRole('button', { name: 'Create account' }).click();
    const error = page.locator('#phone-error');
    await error.filter({ hasText: /belongs to another account/ }).waitFor();
    assert.equal(await page.getByLabel('Mobile phone number').getAttribute('aria-invalid'), 'true');
    await shot('08b-register-phone-taken');
    await page.goto(`${env.base}/app/login`);
  });

  step('an expired challenge sends the person back to sign in, saying why', async () => {
    const { page } = env;
    await signIn();
    const code = await codeSentTo(phone);
    const res = await fetch(`${env.emulator}/_emulator/advance?d=11m`, { method: 'POST' });
    assert.equal(res.status, 200, 'emulator clock advanced');
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectPage('/app/login');
    assert.match(await page.getByRole('status').first().innerText(), /expired or was already used/);
    assert.equal(await page.getByLabel('Email').inputValue(), email, 'email kept for the new attempt');
    await shot('09-challenge-expired');
  });

  step('the Content Security Policy blocks injected inline script', async () => {
    const { page } = env;
    const before = pageErrors.length;
    const ran = await page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.__injected = true';
      document.head.append(el);
      return Boolean(/** @type {any} */ (window).__injected);
    });
    assert.equal(ran, false);
    // The violation report is expected here; keep it out of the next check.
    const reports = pageErrors.splice(before);
    assert.ok(reports.every((r) => /Content Security Policy/.test(r)), reports.join('\n'));
  });

  step('the browser logged no errors', async () => {
    assert.deepEqual(pageErrors, []);
  });
});
