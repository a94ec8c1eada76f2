// @ts-check
// Starting and stopping the real twostep server and its Verify emulator for
// the browser test. Everything runs on loopback, on free ports, in a temp dir.
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

/** freePort asks the kernel for a port nobody is listening on. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(/** @type {number} */ (port)));
    });
  });
}

/** @type {Set<ChildProcess>} */
const running = new Set();

// A crashed or interrupted test must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => process.exit(130));
}

/**
 * start runs a command with its output in logFile and returns the child.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd: string, env: Record<string, string>, logFile: string }} opts
 */
export function start(cmd, args, { cwd, env, logFile }) {
  const log = createWriteStream(logFile);
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  running.add(child);
  child.on('exit', () => running.delete(child));
  return child;
}

/**
 * stop ends a child politely, then firmly.
 * @param {ChildProcess | undefined} child
 */
export async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * waitForHTTP polls url until accept(status) or the child dies or time runs out.
 * @param {string} url
 * @param {(status: number) => boolean} accept
 * @param {{ child: ChildProcess, logFile: string, timeoutMs?: number }} opts
 */
export async function waitForHTTP(url, accept, { child, logFile, timeoutMs = 60_000 }) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${url}: process exited with ${child.exitCode}\n${await tail(logFile)}`);
    }
    try {
      const res = await fetch(url);
      if (accept(res.status)) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}: not ready after ${timeoutMs} ms (${last})\n${await tail(logFile)}`);
}

/** @param {string} file */
async function tail(file) {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}

/**
 * goBuild builds the server binary from the repository root into dir.
 * @param {string} repoDir
 * @param {string} dir
 */
export async function goBuild(repoDir, dir) {
  const bin = path.join(dir, 'twostep');
  await promisify(execFile)('go', ['build', '-o', bin, '.'], { cwd: repoDir, maxBuffer: 16 << 20 });
  return bin;
}

/** tempDir makes a directory that cleanup removes. */
export async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'twostep-e2e-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * @typedef {object} Twostep
 * @property {string} base      the server, e.g. http://127.0.0.1:41234
 * @property {string} emulator  its Verify emulator
 * @property {string} bin       the server binary (for its subcommands, e.g. keygen)
 * @property {() => Promise<void>} stop  stops both and removes the temp dir
 */

/**
 * startTwostep starts the server (TWOSTEP_BIN, or built from repoDir) and
 * its Verify emulator on free loopback ports, with a temp SQLite database
 * and the cheapest settings a test can use. A start-up that fails half-way
 * stops what it started.
 * @param {{ repoDir: string, logDir: string, name?: string, env?: Record<string, string>, bin?: string }} opts
 *   env is added to the server's environment (ACCESS_TOKEN_TTL, WEB_DIR, …);
 *   logs go to <logDir>/<name>server.log and <name>emulator.log; bin is a
 *   binary already built (default TWOSTEP_BIN, else go build).
 * @returns {Promise<Twostep>}
 */
export async function startTwostep({ repoDir, logDir, name = '', env = {}, bin: prebuilt }) {
  /** @type {(() => Promise<unknown>)[]} */
  const undo = [];
  const stopAll = async () => {
    for (const u of undo.reverse()) await u().catch((err) => console.error('cleanup:', err));
  };
  try {
    const tmp = await tempDir();
    undo.push(tmp.cleanup);
    const bin = prebuilt || process.env.TWOSTEP_BIN || (await goBuild(repoDir, tmp.dir));
    const [port, emuPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    const emulator = `http://127.0.0.1:${emuPort}`;
    // A minimal environment, and a temp dir as working directory, so neither
    // a developer's shell variables nor a .env file can change the server.
    const common = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp.dir };

    const emuLog = path.join(logDir, `${name}emulator.log`);
    const emu = start(bin, ['verify-emulator', '-addr', `127.0.0.1:${emuPort}`], { cwd: tmp.dir, env: common, logFile: emuLog });
    undo.push(() => stop(emu));
    // 404 is the emulator's "no code sent to that number yet": it is up.
    await waitForHTTP(`${emulator}/_emulator/code?to=%2B10000000000`, (s) => s === 404, { child: emu, logFile: emuLog });

    const serverLog = path.join(logDir, `${name}server.log`);
    const server = start(bin, [], {
      cwd: tmp.dir,
      logFile: serverLog,
      env: {
        ...common,
        PORT: String(port),
        DATABASE_URL: `sqlite:${path.join(tmp.dir, 'e2e.db')}`,
        // No JWT_SIGNING_KEYS or JWT_SECRET: in development the server signs
        // with an Ed25519 key of its own and publishes it at
        // /.well-known/jwks.json, as production does with configured keys.
        TWILIO_API_URL: emulator,
        TWILIO_ACCOUNT_SID: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        TWILIO_AUTH_TOKEN: 'emulatorauthtoken0000000000000000',
        TWILIO_VERIFY_SID: 'VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        CORS_ALLOWED_ORIGINS: base,
        // Tests sign in to one phone several times within seconds.
        LIMIT_PHONE_COOLDOWN: '0',
        // The cheapest bcrypt: two shared cores, and no secrets worth hashing.
        BCRYPT_COST: '4',
        ...env,
      },
    });
    undo.push(() => stop(server));
    await waitForHTTP(`${base}/readyz`, (s) => s === 200, { child: server, logFile: serverLog });
    return { base, emulator, bin, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * graphql posts one operation to the server, as any client would, and
 * returns the response body.
 * @param {string} base
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @param {string} [accessToken]
 * @returns {Promise<{ data?: any, errors?: { message: string, extensions?: { code?: string } }[] }>}
 */
export async function graphql(base, query, variables = {}, accessToken) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

/**
 * codeSentTo reads the code the emulator "sent" to a phone.
 * @param {string} emulator
 * @param {string} to
 */
export async function codeSentTo(emulator, to) {
  const res = await fetch(`${emulator}/_emulator/code?to=${encodeURIComponent(to)}`);
  if (res.status !== 200) throw new Error(`no code sent to ${to}: ${res.status}`);
  const body = /** @type {{ code: string }} */ (await res.json());
  return body.code;
}

/**
 * codesSent counts the verifications (SMS sends) the emulator was asked for.
 * @param {string} emulator
 */
export async function codesSent(emulator) {
  const res = await fetch(`${emulator}/_emulator/requests`);
  const requests = /** @type {{ method: string, path: string }[]} */ (await res.json());
  return requests.filter((r) => r.method === 'POST' && /\/Verifications$/.test(r.path)).length;
}

/**
 * channelsSentTo lists the channel of each send (sms, call, whatsapp) the
 * emulator was asked for to a phone, oldest first, refused ones included.
 * @param {string} emulator
 * @param {string} to
 */
export async function channelsSentTo(emulator, to) {
  const res = await fetch(`${emulator}/_emulator/requests`);
  const requests = /** @type {{ method: string, path: string, form?: Record<string, string[]> }[]} */ (await res.json());
  return requests
    .filter((r) => r.method === 'POST' && /\/Verifications$/.test(r.path) && r.form?.To?.[0] === to)
    .map((r) => r.form?.Channel?.[0] ?? '');
}

/**
 * signUpAndIn registers an account and signs it in over GraphQL, the code
 * read from the emulator, and returns verifyOtp's answer.
 * @param {Twostep} twostep
 * @param {{ email: string, password: string, phone: string }} who
 * @returns {Promise<{ accessToken: string, refreshToken: string, expiresIn: number, user: { id: string } }>}
 */
export async function signUpAndIn({ base, emulator }, { email, password, phone }) {
  const reg = await graphql(base, 'mutation($i: RegisterInput!) { register(input: $i) { user { id } } }', { i: { email, password, phone } });
  if (reg.errors) throw new Error(`register: ${JSON.stringify(reg.errors)}`);
  const login = await graphql(base, 'mutation($i: LoginInput!) { login(input: $i) { mfaToken } }', { i: { email, password } });
  if (login.errors) throw new Error(`login: ${JSON.stringify(login.errors)}`);
  const verify = await graphql(
    base,
    'mutation($i: VerifyOtpInput!) { verifyOtp(input: $i) { accessToken refreshToken expiresIn user { id } } }',
    { i: { mfaToken: login.data.login.mfaToken, code: await codeSentTo(emulator, phone) } },
  );
  if (verify.errors) throw new Error(`verifyOtp: ${JSON.stringify(verify.errors)}`);
  return verify.data.verifyOtp;
}

/**
 * launchChromium starts Debian's Chromium (CHROMIUM_PATH, default
 * /usr/bin/chromium) headless, kept off the network but for what a page
 * asks of the test's servers. Playwright gives each launch a fresh
 * temporary profile.
 */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    // --no-sandbox because CI runs as root; the rest keep Chromium's own
    // traffic (updates, sync, field trials) from leaving the machine.
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
}
