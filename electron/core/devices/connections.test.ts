import { describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { Connections, type Connection } from './connections.js';

/** Connections whose connect() is a controllable fake: the sharing logic is what is under test. */
class FakeConnections extends Connections {
  attempts = 0;
  closed = 0;
  release: (() => void)[] = [];
  fail = false;

  constructor() {
    super({ store: () => ({}) as never, secrets: () => ({}) as never });
  }

  override connect(spec: string): Promise<Connection> {
    this.attempts += 1;
    return new Promise((resolve, reject) => {
      this.release.push(() =>
        this.fail
          ? reject(new Error(`cannot reach ${spec}`))
          : resolve({
              target: { kind: 'local', label: spec },
              docker: Object.create(null) as Docker,
              strategy: 'local',
              socketPath: '/var/run/docker.sock',
              close: () => (this.closed += 1),
            }),
      );
    });
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Connections.get', () => {
  it('shares one attempt among calls that come while it is opening, then reuses it', async () => {
    const c = new FakeConnections();
    const calls = [c.get('line3'), c.get('line3'), c.get('line3')];
    await tick();
    expect(c.attempts).toBe(1);
    c.release[0]?.();
    const [a, b, d] = await Promise.all(calls);
    expect(a).toBe(b);
    expect(a).toBe(d);
    expect(await c.get('line3')).toBe(a);
    expect(c.attempts).toBe(1);
  });

  it('keeps devices apart', async () => {
    const c = new FakeConnections();
    const calls = [c.get('line3'), c.get('line4')];
    await tick();
    expect(c.attempts).toBe(2);
    for (const r of c.release) r();
    const [a, b] = await Promise.all(calls);
    expect(a).not.toBe(b);
  });

  it('gives every waiting call the failure, and tries afresh next time', async () => {
    const c = new FakeConnections();
    c.fail = true;
    const calls = [c.get('line3'), c.get('line3')].map((p) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      ),
    );
    await tick();
    c.release[0]?.();
    expect(await Promise.all(calls)).toEqual(['cannot reach line3', 'cannot reach line3']);
    c.fail = false;
    const next = c.get('line3');
    await tick();
    expect(c.attempts).toBe(2);
    c.release[1]?.();
    await expect(next).resolves.toBeTruthy();
  });

  it('closes a connection dropped while it was opening, and keeps none', async () => {
    const c = new FakeConnections();
    const call = c.get('line3').then(
      () => 'kept',
      (e: unknown) => (e as { code?: string }).code,
    );
    await tick();
    c.drop('line3');
    c.release[0]?.();
    expect(await call).toBe('CONNECTION_CLOSED');
    expect(c.closed).toBe(1);
    const again = c.get('line3');
    await tick();
    expect(c.attempts).toBe(2);
    c.release[1]?.();
    await again;
  });
});
