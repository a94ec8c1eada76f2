// The app talks to the server through @twostep/client alone: no requests
// of its own, no GraphQL client, no copies of what the SDK owns.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('.', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sources(file);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && e.name !== 'testing.tsx' ? [file] : [];
  });
}

describe('the app uses only the SDK to talk to the server', () => {
  const files = sources(src).map((file) => ({ name: path.relative(src, file), text: readFileSync(file, 'utf8') }));

  it.each([
    ['fetch or XMLHttpRequest', /\bfetch\(|XMLHttpRequest|WebSocket|EventSource/],
    ['a GraphQL client or document', /from '(@apollo|graphql|urql)|\bgql`|\b(query|mutation) [A-Z]\w*[({]/],
    ['the token storage key', /twostep\.refresh/],
    ['an Authorization header', /authorization|Bearer /i],
  ])('no source has %s', (_name, pattern) => {
    expect(files.filter((f) => pattern.test(f.text)).map((f) => f.name)).toEqual([]);
  });

  it('names the endpoint once, where the client is made', () => {
    expect(files.filter((f) => f.text.includes("'/graphql'")).map((f) => f.name)).toEqual(['main.tsx']);
    expect(files.find((f) => f.name === 'main.tsx')?.text).toContain("createTwostepClient({ url: '/graphql' })");
  });
});
