// @ts-check
// The SDK's own smoke test (sdk/e2e-smoke.mjs: the built @twostep/client
// in Node, register to logout) against a server and Verify emulator started
// like the browser test's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTwostep } from './harness.mjs';

const webDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = path.resolve(webDir, '..');
const artifacts = path.join(webDir, 'e2e', 'artifacts');
const smoke = path.join(webDir, 'sdk', 'e2e-smoke.mjs');

/** @type {import('./harness.mjs').Twostep} */
let twostep;

before(async () => {
  assert.ok(existsSync(path.join(webDir, 'sdk', 'dist', 'index.js')), 'sdk/dist is missing: run `npm run build` first');
  await mkdir(artifacts, { recursive: true });
  twostep = await startTwostep({ repoDir, logDir: artifacts, name: 'sdk-smoke-' });
}, { timeout: 5 * 60_000 });

after(() => twostep?.stop());

it('sdk/e2e-smoke.mjs passes against the real server', { skip: !existsSync(smoke) }, async () => {
  const run = promisify(execFile)(process.execPath, [smoke, '--server', twostep.base, '--emulator', twostep.emulator], {
    cwd: path.dirname(smoke),
    timeout: 60_000,
  });
  /** @type {{ stdout: string, stderr: string }} */
  let out;
  try {
    out = await run;
  } catch (err) {
    const e = /** @type {{ stdout?: string, stderr?: string }} */ (err);
    await writeFile(path.join(artifacts, 'sdk-smoke.log'), `${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw err;
  }
  await writeFile(path.join(artifacts, 'sdk-smoke.log'), out.stdout + out.stderr);
  assert.match(out.stdout, /^e2e-smoke: \d+ passed, 0 failed$/m, out.stdout + out.stderr);
});
