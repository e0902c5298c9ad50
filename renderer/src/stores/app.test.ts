import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useAppStore } from './app';

describe('app store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    delete window.api;
  });

  it('says there is no core, with the way out, when the page runs without one', async () => {
    const app = useAppStore();
    await app.load();
    expect(app.state).toBe('error');
    expect(app.error?.code).toBe('NO_CORE');
    expect(app.error?.hint).toContain('portwright serve');
  });

  it('shows the core version once the core answers', async () => {
    window.api = {
      appInfo: () =>
        Promise.resolve({
          ok: true as const,
          data: { name: 'Portwright', version: '9.8.7', frontEnd: 'electron', platform: 'linux-x64', node: '20' },
        }),
      on: () => () => undefined,
    } as unknown as Window['api'];
    const app = useAppStore();
    await app.load();
    expect(app.state).toBe('ready');
    expect(app.title).toBe('Portwright 9.8.7');
  });

  it('turns a core error into the shown error with its hint', async () => {
    window.api = {
      appInfo: () =>
        Promise.resolve({ ok: false as const, error: { code: 'BOOM', message: 'it broke', hint: 'fix it' } }),
      on: () => () => undefined,
    } as unknown as Window['api'];
    const app = useAppStore();
    await app.load();
    expect(app.state).toBe('error');
    expect(app.error).toMatchObject({ code: 'BOOM', message: 'it broke', hint: 'fix it' });
  });
});
