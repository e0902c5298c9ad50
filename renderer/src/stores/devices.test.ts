import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Result } from '../../../electron/core/contract';
import { useDevicesStore } from './devices';

const FP = `SHA256:${'k'.repeat(43)}`;
const calls: { method: string; input: unknown }[] = [];

/** A fake preload bridge (the boundary): deviceTest refuses until the shown key is pinned. */
function fakeBridge(): void {
  const ok = <T>(data: T): Promise<Result<T>> => Promise.resolve({ ok: true, data });
  const bridge = {
    deviceList: () => ok([]),
    deviceTest: (input: { hostKey?: string }) => {
      calls.push({ method: 'deviceTest', input });
      if (input.hostKey !== FP)
        return Promise.resolve({ ok: false, error: { code: 'HOST_KEY_UNKNOWN', message: `unknown key ${FP}.` } });
      return ok({
        target: 'gw',
        user: 'root',
        strategy: 'stream-local',
        socketPath: '/var/run/docker.sock',
        engine: { version: '27.1' },
        callMs: 3,
      });
    },
    on: () => () => undefined,
  };
  (window as unknown as { api: unknown }).api = bridge;
}

describe('devices store', () => {
  beforeEach(() => {
    calls.length = 0;
    fakeBridge();
    setActivePinia(createPinia());
  });

  it('turns an unknown host key into a question, and connects once the shown key is trusted', async () => {
    const store = useDevicesStore();
    const first = await store.connect('gw');
    expect(first).toMatchObject({ kind: 'host-key', question: { kind: 'unknown', fingerprint: FP } });
    expect(store.states.gw).toBe('key-unknown');
    const second = await store.connect('gw', { hostKey: FP });
    expect(second.kind).toBe('connected');
    expect(store.states.gw).toBe('connected');
    expect(calls.map((c) => c.input)).toEqual([{ target: 'gw' }, { target: 'gw', hostKey: FP }]);
  });
});
