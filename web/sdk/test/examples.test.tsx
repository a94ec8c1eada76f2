// @vitest-environment happy-dom
// The README's examples: the same text as examples/, and the React one works.
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

describe('README', () => {
  it.each(['examples/react.tsx', 'examples/vanilla.ts'])('shows %s as it is', (file) => {
    const blocks = [...read('README.md').matchAll(/```(?:tsx|ts)\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(read(file));
  });
});

describe('examples/react.tsx', () => {
  it('signs in with a password and a code, shows me, and signs out', async () => {
    const fake = createFakeTwostep();
    fake.addUser();
    vi.stubGlobal('fetch', fake.fetch);
    const { App } = await import('../examples/react.js');
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    const settle = async () => {
      for (let i = 0; i < 5; i++) await act(async () => await new Promise((r) => setTimeout(r, 0)));
    };
    const submit = async (values: Record<string, string>) => {
      for (const [name, value] of Object.entries(values)) container.querySelector<HTMLInputElement>(`input[name=${name}]`)!.value = value;
      act(() => container.querySelector('form')!.requestSubmit());
      await settle();
    };

    act(() => root.render(<App />));
    await submit({ email: ada.email, password: ada.password });
    await submit({ code: '000000' });
    expect(container.querySelector('[role=alert]')?.textContent).toBe('That code is wrong. You have 4 attempts left.');
    await submit({ code: fake.code(ada.phone) });
    expect(container.textContent).toBe(`Signed in as ${ada.email} Sign out`);
    expect([...Object.keys(localStorage)]).toEqual(['twostep.refresh']);

    act(() => container.querySelector('button')!.click());
    await settle();
    expect(container.querySelector('input[name=email]')).not.toBeNull();
    expect(fake.operations()).toEqual(['Login', 'VerifyOtp', 'VerifyOtp', 'Me', 'Logout']);
    act(() => root.unmount());
    container.remove();
  });
});
