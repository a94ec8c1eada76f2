// @ts-check
// Builds ./sdk, the @twostep/client this app depends on ("file:sdk"), to
// sdk/dist with this package's TypeScript, so a clean `npm ci` here is all
// it needs (sdk/node_modules holds only the SDK's own test tools). npm runs
// it after `npm ci` (prepare) and before dev, build and test; it does
// nothing when sdk/dist is newer than every source.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const sdk = fileURLToPath(new URL('../sdk/', import.meta.url));
const stamp = path.join(sdk, 'dist', 'index.js');

/**
 * newest is the latest modification time of file, or of any file under it.
 * @param {string} file
 * @returns {number}
 */
function newest(file) {
  const st = statSync(file);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(file).map((f) => newest(path.join(file, f))));
}

const sources = ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => path.join(sdk, f));
const force = process.argv.includes('--force');
if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...sources.map(newest))) {
  process.exit(0);
}
// Start clean, so a deleted source leaves no module behind.
rmSync(path.join(sdk, 'dist'), { recursive: true, force: true });
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
execFileSync(process.execPath, [tsc, '-p', path.join(sdk, 'tsconfig.build.json')], { stdio: 'inherit' });
console.log('sdk: built @twostep/client to sdk/dist');
