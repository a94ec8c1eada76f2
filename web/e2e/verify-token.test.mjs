// @ts-check
// verify-token.mjs against a real server: real access tokens pass, forged
// ones do not. Drives the GraphQL flow from Node; no browser.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { graphql, signUpAndIn, startTwostep } from './harness.mjs';
import { verifyAccessToken } from './verify-token.mjs';

const webDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = path.resolve(webDir, '..');
const artifacts = path.join(webDir, 'e2e', 'artifacts');

/** @type {(() => Promise<void>)[]} */
const stops = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** signedIn starts a server with env and signs a new account in; returns what a test needs. */
async function signedIn(/** @type {string} */ name, /** @type {Record<string, string>} */ env = {}, /** @type {string} */ bin = '') {
  await mkdir(artifacts, { recursive: true });
  const twostep = await startTwostep({ repoDir, logDir: artifacts, name, env, bin });
  stops.push(twostep.stop);
  const who = { email: `${name}${randomInt(1e9)}@example.com`, password: 'correct horse battery staple 7', phone: `+1415555${String(randomInt(1e4)).padStart(4, '0')}` };
  const tokens = await signUpAndIn(twostep, who);
  return { twostep, tokens, jwksUrl: `${twostep.base}/.well-known/jwks.json` };
}

/** jwtParts splits a compact JWS into its decoded header and payload and the signature. */
function jwtParts(/** @type {string} */ token) {
  const [h = '', p = '', sig = ''] = token.split('.');
  const decode = (/** @type {string} */ s) => JSON.parse(Buffer.from(s, 'base64url').toString());
  return { header: decode(h), payload: decode(p), sig };
}

function encode(/** @type {unknown} */ v) {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** rejects asserts that verifyAccessToken refuses token with the jose error code. */
async function rejects(/** @type {Promise<unknown>} */ p, /** @type {string} */ code) {
  await assert.rejects(p, (/** @type {any} */ err) => {
    assert.equal(err.code, code, String(err));
    return true;
  });
}

describe('verifyAccessToken (e2e/verify-token.mjs)', () => {
  /** @type {Awaited<ReturnType<typeof signedIn>>} */
  let s;
  before(async () => {
    s = await signedIn('verify-eddsa-');
  }, { timeout: 5 * 60_000 });

  it('accepts a real token and reads user, session, factors and expiry', async () => {
    const got = await verifyAccessToken(s.tokens.accessToken, { jwksUrl: s.jwksUrl });
    const sessions = await graphql(s.twostep.base, '{ sessions { id current } }', {}, s.tokens.accessToken);
    assert.equal(jwtParts(s.tokens.accessToken).header.alg, 'EdDSA');
    assert.equal(got.userId, s.tokens.user.id);
    assert.equal(got.sessionId, sessions.data.sessions.find((/** @type {any} */ x) => x.current).id);
    assert.deepEqual(got.amr, ['pwd', 'sms', 'mfa']);
    const wantExpiry = Date.now() + s.tokens.expiresIn * 1000;
    assert.ok(Math.abs(got.expiresAt.getTime() - wantExpiry) < 5_000, `expiresAt ${got.expiresAt.toISOString()}`);
  });

  it('refuses a token whose signature was tampered with', async () => {
    const [h, p, sig = ''] = s.tokens.accessToken.split('.');
    const i = Math.floor(sig.length / 2);
    const flipped = sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1);
    await rejects(verifyAccessToken(`${h}.${p}.${flipped}`, { jwksUrl: s.jwksUrl }), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses a token whose claims were changed', async () => {
    const { header, payload, sig } = jwtParts(s.tokens.accessToken);
    const forged = `${encode(header)}.${encode({ ...payload, sub: 'someone-else' })}.${sig}`;
    await rejects(verifyAccessToken(forged, { jwksUrl: s.jwksUrl }), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses an HS256 token signed with the public key as the secret', async () => {
    const { header, payload } = jwtParts(s.tokens.accessToken);
    const jwks = await (await fetch(s.jwksUrl)).json();
    const key = jwks.keys.find((/** @type {any} */ k) => k.kid === header.kid);
    assert.ok(key, 'the token names a published key');
    const signingInput = `${encode({ ...header, alg: 'HS256' })}.${encode(payload)}`;
    for (const secret of [JSON.stringify(key), Buffer.from(key.x, 'base64url')]) {
      const sig = createHmac('sha256', secret).update(signingInput).digest('base64url');
      await rejects(verifyAccessToken(`${signingInput}.${sig}`, { jwksUrl: s.jwksUrl }), 'ERR_JOSE_ALG_NOT_ALLOWED');
    }
  });

  it('refuses an unsigned token (alg none)', async () => {
    const { header, payload } = jwtParts(s.tokens.accessToken);
    const unsigned = `${encode({ typ: header.typ, alg: 'none' })}.${encode(payload)}.`;
    await rejects(verifyAccessToken(unsigned, { jwksUrl: s.jwksUrl }), 'ERR_JOSE_ALG_NOT_ALLOWED');
  });

  it('refuses a token for another audience', async () => {
    await rejects(verifyAccessToken(s.tokens.accessToken, { jwksUrl: s.jwksUrl, audience: 'billing' }), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('still accepts a token after logout, until it expires: ask twostep when that matters', async () => {
    const out = await graphql(s.twostep.base, 'mutation { logout { revokedSessions } }', {}, s.tokens.accessToken);
    assert.equal(out.data?.logout.revokedSessions, 1, JSON.stringify(out));
    await verifyAccessToken(s.tokens.accessToken, { jwksUrl: s.jwksUrl });
    const me = await graphql(s.twostep.base, '{ me { id } }', {}, s.tokens.accessToken);
    assert.equal(me.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('accepts ES256 tokens from a server configured with P-256 keys', async () => {
    const { stdout } = await promisify(execFile)(s.twostep.bin, ['keygen', '-alg', 'ES256', '-set']);
    const es = await signedIn('verify-es256-', { JWT_SIGNING_KEYS: stdout.trim() }, s.twostep.bin);
    assert.equal(jwtParts(es.tokens.accessToken).header.alg, 'ES256');
    const got = await verifyAccessToken(es.tokens.accessToken, { jwksUrl: es.jwksUrl });
    assert.equal(got.userId, es.tokens.user.id);
    // A key set is per server: the first server's keys do not vouch for this one.
    await rejects(verifyAccessToken(es.tokens.accessToken, { jwksUrl: s.jwksUrl }), 'ERR_JWKS_NO_MATCHING_KEY');
  });
});
