// ssh2 (1.17) with compression: once a connection has ended, ssh2 closes its zlib stream, but a
// channel that is destroyed afterwards still sends CHANNEL_CLOSE through it, and the zlib writer
// throws "Invalid Zlib instance" from inside a stream callback, which no caller can catch: the process
// dies (mscdex/ssh2#1178, open). Without compression the same late packet is harmlessly dropped (the
// cipher is freed and nothing reaches the wire). This guard makes the compressed writer do the same:
// with its zlib stream closed, a packet is framed uncompressed, exactly as the plain writer frames it,
// and dropped further down. While the connection is up, nothing changes.
import { createRequire } from 'node:module';

interface ZlibWriter {
  _zlib?: { _handle?: unknown };
  _protocol: { _cipher: { allocPacket(len: number): Buffer } };
  finalize(payload: Buffer, force?: boolean): Buffer;
}

type Finalize = (this: ZlibWriter, payload: Buffer, force?: boolean) => Buffer;

const require = createRequire(import.meta.url);
let installed = false;

export function guardSsh2Zlib(): void {
  if (installed) return;
  installed = true;
  const zlib = require('ssh2/lib/protocol/zlib.js') as { ZlibPacketWriter?: { prototype: ZlibWriter } };
  const proto = zlib.ZlibPacketWriter?.prototype;
  // A version of ssh2 without this writer (or a renamed one) needs no guard from us.
  const finalize = proto && (Object.getOwnPropertyDescriptor(proto, 'finalize')?.value as Finalize | undefined);
  if (!proto || typeof finalize !== 'function') return;
  proto.finalize = function guardedFinalize(this: ZlibWriter, payload: Buffer, force?: boolean): Buffer {
    if (this._zlib?._handle) return finalize.call(this, payload, force);
    const packet = this._protocol._cipher.allocPacket(payload.length);
    packet.set(payload, 5);
    return packet;
  };
}
