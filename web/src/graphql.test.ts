import { readFileSync } from 'node:fs';
import { buildSchema, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { LOGIN, ME, REGISTER, VERIFY_OTP } from './graphql';

// The schema is the contract; the app's hand-written types mirror these
// documents, so a renamed or removed field must fail here, not in a browser.
const schema = buildSchema(readFileSync(new URL('../../schema.graphqls', import.meta.url), 'utf8'));

describe('operations match schema.graphqls', () => {
  it.each([
    ['Register', REGISTER],
    ['Login', LOGIN],
    ['VerifyOtp', VERIFY_OTP],
    ['Me', ME],
  ])('%s', (_name, doc) => {
    expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
  });
});
