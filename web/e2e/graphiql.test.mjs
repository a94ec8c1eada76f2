// @ts-check
// GraphiQL, which the server serves at / in development from files built
// into its binary: in a browser it loads with no request beyond the server,
// opens the flow's four tabs, and runs Register and Login against the API.
// Screenshots land in e2e/artifacts/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codeSentTo, launchChromium, startTwostep } from './harness.mjs';

const webDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = path.resolve(webDir, '..');
const artifacts = path.join(webDir, 'e2e', 'artifacts');

// The account GraphiQL's first tab registers (internal/graphiql/assets/init.js).
const tabPhone = '+14155550123';

/** @type {{ base: string, emulator: string, page: import('playwright-core').Page }} */
let env;
/** @type {{ requests: string[], failed: string[], errors: string[] }} */
const seen = { requests: [], failed: [], errors: [] };
/** @type {(() => Promise<unknown>)[]} */
const cleanups = [];

before(async () => {
  await mkdir(artifacts, { recursive: true });
  const twostep = await startTwostep({ repoDir, logDir: artifacts, name: 'graphiql-' });
  cleanups.push(twostep.stop);
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // Everything the page asks for, and everything that went wrong on it.
  page.on('request', (req) => seen.requests.push(req.url()));
  page.on('requestfailed', (req) => seen.failed.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', async (res) => {
    if (res.status() >= 400) seen.failed.push(`${res.url()}: ${res.status()} ${(await res.text().catch(() => '')).slice(0, 300)}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => seen.errors.push(`exception: ${err.message}`));
  env = { base: twostep.base, emulator: twostep.emulator, page };
}, { timeout: 5 * 60_000 });

after(async () => {
  for (const undo of cleanups.reverse()) await undo().catch((err) => console.error('cleanup:', err));
});

/** run executes the open tab and returns the server's answer to it. */
async function run(/** @type {string} */ operationName) {
  const { page } = env;
  const answer = page.waitForResponse(
    (res) => res.url() === `${env.base}/graphql` && (res.request().postData() ?? '').includes(`"operationName":"${operationName}"`),
  );
  await page.locator('.graphiql-execute-button').click();
  return (await answer).json();
}

describe('GraphiQL at /', { concurrency: false }, () => {
  it('loads from the server alone, with the flow in four tabs', async () => {
    const { page } = env;
    await page.goto(`${env.base}/`);
    await page.locator('.graphiql-container').waitFor();
    await page.locator('.graphiql-tab').nth(3).waitFor();
    assert.deepEqual(await page.locator('.graphiql-tab').allInnerTexts(), ['Register', 'Login', 'Verify', 'Me']);
    // Scripts, styles and the schema's introspection: all from this origin.
    const origin = new URL(env.base).origin;
    const elsewhere = seen.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    assert.deepEqual(elsewhere, [], 'every request goes to the server');
    assert.ok(seen.requests.some((url) => url.includes('/graphiql/')), 'the assets come from the server');
    await page.screenshot({ path: path.join(artifacts, 'graphiql-01-loaded.png') });
  });

  it('runs the Register and Login tabs against the API', async () => {
    const { page } = env;
    const registered = await run('Register');
    assert.equal(registered.errors, undefined, JSON.stringify(registered.errors));
    assert.equal(registered.data.register.user.phone, tabPhone);
    await page.locator('.result-window').getByText('"phoneVerified": false').waitFor();

    await page.locator('.graphiql-tab', { hasText: 'Login' }).click();
    // GraphiQL reads the operation's name from the editor a moment after a
    // tab opens (a debounce); run sooner and it sends the last tab's name
    // with this tab's query, which the server refuses. A person is slower.
    await page.waitForTimeout(1_000);
    const login = await run('Login');
    assert.equal(login.errors, undefined, JSON.stringify(login.errors));
    assert.ok(login.data.login.mfaToken, 'login answered an mfaToken');
    await page.locator('.result-window').getByText('"mfaToken"').waitFor();
    assert.match(await codeSentTo(env.emulator, tabPhone), /^\d+$/, 'the code went out');
    await page.screenshot({ path: path.join(artifacts, 'graphiql-02-login.png') });
  });

  it('logged no errors and had no failed requests', async () => {
    const origin = new URL(env.base).origin;
    assert.deepEqual(
      seen.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin),
      [],
      'every request goes to the server',
    );
    assert.deepEqual(seen.failed, []);
    assert.deepEqual(seen.errors, []);
  });
});
