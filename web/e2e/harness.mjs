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
