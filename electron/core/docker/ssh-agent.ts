// An http.Agent whose "sockets" are channels of one SSH connection, so every Docker API call rides
// the device's existing SSH session instead of paying for a new handshake.
import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';

/** Opens one byte stream to the Docker socket (e.g. a stream-local channel). */
export type ChannelOpener = () => Promise<Duplex>;

export class SshChannelAgent extends Agent {
  constructor(
    private readonly openChannel: ChannelOpener,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, maxSockets: 8, ...options });
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.openChannel().then(
      (stream) => callback?.(null, asSocketLike(stream)),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** http and its Agent call net.Socket's tuning methods (keep-alive, no-delay, ref); a channel has none. */
function asSocketLike(stream: Duplex): Duplex {
  const s = stream as Duplex & Record<string, unknown>;
  for (const name of ['setKeepAlive', 'setNoDelay', 'ref', 'unref']) {
    if (typeof s[name] !== 'function') s[name] = () => s;
  }
  if (typeof s.setTimeout !== 'function') s.setTimeout = () => s;
  return stream;
}
