// @ts-check
// How another Node service checks a twostep access token, with nothing but
// the public keys twostep publishes (GET /.well-known/jwks.json). The
// README quotes this file; e2e/verify-token.test.mjs runs it against a real
// server.
import { createRemoteJWKSet, jwtVerify } from 'jose';

// One key set per URL, kept for the life of the process: jose fetches the
// keys once, and again only for a token signed with a kid it has not seen
// (a key rotation), at most every 30 seconds.
/** @type {Map<string, ReturnType<typeof createRemoteJWKSet>>} */
const keySets = new Map();

/**
 * verifyAccessToken checks the signature, type, issuer, audience and expiry
 * of a twostep access token and returns who it speaks for. It rejects
 * (with a jose error) for anything else: a forged or tampered token, an
 * HS256 or "none" token, another kind of JWT, one that has expired.
 *
 * What the claims mean: sub is the user, sid the session, and amr
 * ["pwd","sms","mfa"] says both factors were used. A valid token proves the
 * session was live when it was issued, not now: it stays valid until exp
 * (15 minutes by default) even after a logout. A service that must honour
 * logout at once asks twostep instead (a `me` or `sessions` query with the
 * same token, which fails with UNAUTHENTICATED for an ended session).
 *
 * @param {string} token  the `Authorization: Bearer` value
 * @param {{ jwksUrl: string, issuer?: string, audience?: string }} opts
 *   jwksUrl is https://<twostep>/.well-known/jwks.json; issuer and audience
 *   are twostep's JWT_ISSUER and JWT_AUDIENCE.
 * @returns {Promise<{ userId: string, sessionId: string, amr: string[], expiresAt: Date }>}
 */
export async function verifyAccessToken(token, { jwksUrl, issuer = 'twostep', audience = 'twostep' }) {
  let jwks = keySets.get(jwksUrl);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(jwksUrl));
    keySets.set(jwksUrl, jwks);
  }
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    // Only the asymmetric algorithms twostep signs with: a token that says
    // HS256 (signed with the public key as a secret) or "none" is refused.
    algorithms: ['EdDSA', 'ES256'],
    // An access token (RFC 9068), not some other JWT from the same issuer.
    typ: 'at+jwt',
    // Seconds of clock difference between twostep and this service.
    clockTolerance: 30,
    // jose checks exp only if it is there; twostep always sets these.
    requiredClaims: ['exp', 'sub', 'sid'],
  });
  return {
    userId: String(payload.sub),
    sessionId: String(payload.sid),
    amr: /** @type {string[]} */ (payload.amr),
    expiresAt: new Date(Number(payload.exp) * 1000),
  };
}
