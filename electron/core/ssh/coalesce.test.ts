import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './session.js';

describe('coalesceWrites', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function pair(): Promise<{ client: net.Socket; received: () => Promise<Buffer> }> {
    const chunks: Buffer[] = [];
    let ended: () => void = () => undefined;
    const done = new Promise<void>((r) => (ended = r));
    const server = net.createServer((s) => {
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => ended());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', r));
    cleanups.push(() => {
      client.destroy();
      server.close();
    });
    return {
      client,
      received: async () => {
        client.end();
        await done;
        return Buffer.concat(chunks);
      },
    };
  }

  it('hands everything written in one turn to the kernel in one write, in order', async () => {
    const { client, received } = await pair();
    const handed: number[] = [];
    const s = client as unknown as {
      _write: (c: Buffer, e: string, cb: () => void) => void;
      _writev: (c: { chunk: Buffer }[], cb: () => void) => void;
    };
    const write = s._write.bind(client);
    const writev = s._writev.bind(client);
    s._write = (c, e, cb) => {
      handed.push(1);
      write(c, e, cb);
    };
    s._writev = (c, cb) => {
      handed.push(c.length);
      writev(c, cb);
    };
    coalesceWrites(client);
    const parts = Array.from({ length: 46 }, (_, i) => `open ${i};`);
    for (const p of parts) client.write(p);
    await new Promise((r) => setImmediate(r));
    // A second turn is a second batch.
    client.write('request;');
    client.write('request;');
    await new Promise((r) => setImmediate(r));
    expect(handed).toEqual([46, 2]);
    expect((await received()).toString()).toBe(parts.join('') + 'request;request;');
  });

  it('does not hold a lone write back past the end of its turn', async () => {
    const { client, received } = await pair();
    coalesceWrites(client);
    client.write('ping');
    await new Promise((r) => setImmediate(r));
    expect(client.writableLength).toBe(0);
    expect((await received()).toString()).toBe('ping');
  });
});
