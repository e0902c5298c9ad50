import type { IpcMainInvokeEvent } from 'electron';
import { describe, expect, it } from 'vitest';
import { methodNames } from '../core/contract.js';
import { Service } from '../core/service.js';
import { bindService } from './ipc.js';

type Handler = (event: IpcMainInvokeEvent, input: unknown) => Promise<unknown>;

function fakeIpc(): { handlers: Map<string, Handler>; handle: (channel: string, h: Handler) => void } {
  const handlers = new Map<string, Handler>();
  return { handlers, handle: (channel, h) => handlers.set(channel, h) };
}

const event = {} as IpcMainInvokeEvent;

describe('IPC binding of the core service', () => {
  it('binds every contract method, generically', () => {
    const ipc = fakeIpc();
    bindService(ipc, new Service({ frontEnd: 'electron' }), () => true);
    expect([...ipc.handlers.keys()].sort()).toEqual(methodNames.map((m) => `pw:${m}`).sort());
  });

  it('refuses calls from a page that is not ours, without running the method', async () => {
    const ipc = fakeIpc();
    bindService(ipc, new Service({ frontEnd: 'electron' }), () => false);
    const result = await ipc.handlers.get('pw:appInfo')?.(event, {});
    expect(result).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('parses input with the method schema and returns errors as values', async () => {
    const ipc = fakeIpc();
    bindService(ipc, new Service({ frontEnd: 'electron' }), () => true);
    expect(await ipc.handlers.get('pw:appInfo')?.(event, { injected: true })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await ipc.handlers.get('pw:appInfo')?.(event, {})).toMatchObject({
      ok: true,
      data: { frontEnd: 'electron' },
    });
  });
});
