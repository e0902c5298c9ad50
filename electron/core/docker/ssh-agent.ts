// An http.Agent whose "sockets" are channels of one SSH connection, so every Docker API call rides
// the device's existing SSH session instead of paying for a new handshake.
import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { inspect } from 'node:util';

/** Opens one byte stream to the Docker socket (e.g. a stream-local channel). */
export type ChannelOpener = () => Promise<Duplex>;

export class SshChannelAgent extends Agent {
  /** Channels opened ahead of need (see `adopt`), with the listener that drops one the device closes. */
  private readonly spares = new Map<Duplex, () => void>();

  constructor(
    private readonly openChannel: ChannelOpener,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, maxSockets: 8, ...options });
  }

  /**
   * Takes channels that are already open: opening one costs a round trip before a request can go
   * out, so the tunnel opens a few at once while it is set up and the first calls skip that wait.
   */
  adopt(channels: Duplex[]): void {
    for (const c of channels) {
      const drop = (): void => this.release(c);
      c.on('close', drop).on('end', drop).on('error', drop);
      this.spares.set(c, drop);
    }
  }

  /** Takes a channel out of the spares, without the listeners it had there. */
  private release(c: Duplex): void {
    const drop = this.spares.get(c);
    if (!drop) return;
    c.off('close', drop).off('end', drop).off('error', drop);
    this.spares.delete(c);
  }

  private takeSpare(): Duplex | undefined {
    for (const c of this.spares.keys()) {
      this.release(c);
      if (!c.destroyed && c.writable && !c.readableEnded) return c;
      c.destroy();
    }
    return undefined;
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const spare = this.takeSpare();
    if (spare) {
      // Asynchronously, as for a new channel: http expects the callback after this returns.
      process.nextTick(() => callback?.(null, asSocketLike(spare)));
      return undefined;
    }
    // A channel opener may throw rather than reject (no connection right now); either way the request fails.
    new Promise<Duplex>((resolve) => {
      resolve(this.openChannel());
    }).then(
      (stream) => callback?.(null, asSocketLike(stream)),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
    return undefined;
  }

  override destroy(): void {
    for (const c of [...this.spares.keys()]) {
      this.release(c);
      c.destroy();
    }
    super.destroy();
  }

  /**
   * docker-modem runs `util.inspect(options, { showHidden: true, depth: null })` on every request,
   * debug logging on or not, and the options hold this agent: without this, each call walks every
   * channel and the whole ssh2 client behind them. That grows with the open channels: 50 parallel
   * calls on kept-alive channels took a minute of CPU, and a cold burst of 50 spent most of its time here.
   */
  [inspect.custom](): string {
    const count = (m: NodeJS.ReadOnlyDict<unknown[]>): number =>
      Object.values(m).reduce((n, list) => n + (list?.length ?? 0), 0);
    return `SshChannelAgent { busy: ${count(this.sockets)}, free: ${count(this.freeSockets)}, spare: ${this.spares.size} }`;
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
