// @vitest-environment happy-dom
// The repository's README shows the SDK with React (examples/short.tsx)
// and without (examples/vanilla.ts): the same text as these files, which
// npm run check type-checks, and the React one signs in.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ada, createFakeTwostep } from './helpers.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFileSync(path.join(sdk, file), 'utf8');

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe("the repository's README", () => {
  it.each(['examples/short.tsx', 'examples/vanilla.ts'])('shows %s as it is', (file) => {
    const blocks = [...read('../../README.md').matchAll(/```(?:tsx|ts)\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(read(file));
  });

  it('its React example signs in with a password and a code, then signs out', async () => {
    const fake = createFakeTwostep();
    fake.addUser();
    vi.stubGlobal('fetch', fake.fetch);
    const { App } = await import('../examples/short.js');
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    const settle = async () => {
      for (let i = 0; i < 8; i++) await act(async () => await new Promise((r) => setTimeout(r, 0)));
    };
    const submit = async (values: Record<string, string>) => {
      for (const [name, value] of Object.entries(values)) container.querySelector<HTMLInputElement>(`input[name=${name}]`)!.value = value;
      await act(async () => container.querySelector('form')!.requestSubmit());
      await settle();
    };
    act(() => root.render(<App />));
    await settle();
    await submit({ email: ada.email, password: ada.password });
    await submit({ code: '000000' });
    expect(container.querySelector('[role=alert]')?.textContent).toBe('That code is wrong. You have 4 attempts left.');
    await submit({ code: fake.code(ada.phone) });
    expect(container.textContent).toContain(`Signed in as ${ada.email}`);
    await act(async () => container.querySelector('button')!.click());
    await settle();
    expect(container.querySelector('input[name=email]')).not.toBeNull();
    act(() => root.unmount());
  });
});
