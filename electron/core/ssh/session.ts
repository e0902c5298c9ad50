// One SSH connection per device (optionally through one jump host): authentication, keepalive,
// reconnect with backoff, connection state as events, and the channels everything else rides on.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { PortwrightError } from '../errors.js';
import { guardSsh2Zlib } from './ssh2-zlib-guard.js';

// Compression is on (see open()); keep a late channel close from crashing the process.
guardSsh2Zlib();

const { Client } = ssh2;
type Ssh2Client = InstanceType<typeof Client>;

export type Auth =
  | { kind: 'key'; identityFile: string; passphrase?: string }
  | { kind: 'agent'; socket?: string }
  | { kind: 'password'; password: string }
  | { kind: 'keyboard-interactive'; answer: (prompts: { prompt: string; echo: boolean }[]) => Promise<string[]> };

/** Decides on the server's host key before any credential is sent; throw to refuse. */
export type HostKeyCheck = (host: string, port: number, keyBlob: Buffer) => void | Promise<void>;

export interface Endpoint {
  host: string;
  port: number;
  username: string;
  auth: Auth;
}

export interface SessionOptions extends Endpoint {
  /** One jump host, like OpenSSH's ProxyJump. */
  jump?: Endpoint;
  checkHostKey: HostKeyCheck;
  /** Give up connecting after this long. Default 15 s. */
  connectTimeoutMs?: number;
  /** A dead link is noticed after interval × (countMax + 1). Default 5 s × 3 → within 20 s. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Reconnect after a lost connection. Default on, 0.5 s doubling to 15 s. */
  reconnect?: { enabled: boolean; initialDelayMs?: number; maxDelayMs?: number };
  /** ssh2's protocol trace, for diagnosing a connection (and for counting its round trips). */
  debug?: (message: string) => void;
}

export type SessionState = 'idle' | 'connecting' | 'connected' | 'lost' | 'reconnecting' | 'closed';

export interface StateChange {
  state: SessionState;
  /** Why, when the change comes from a failure. */
  error?: { code: string; message: string };
  /** Reconnect attempt number, from 1. */
  attempt?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class SshSession extends EventEmitter<{ state: [StateChange] }> {
  private client: Ssh2Client | undefined;
  private jumpClient: Ssh2Client | undefined;
  private _state: SessionState = 'idle';
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private hostKeyError: PortwrightError | undefined;

  constructor(readonly options: SessionOptions) {
    super();
  }

  get state(): SessionState {
    return this._state;
  }

  private setState(change: StateChange): void {
    this._state = change.state;
    this.emit('state', change);
  }

  /** Connects (through the jump host if one is set). Rejects with a PortwrightError. */
  async connect(): Promise<void> {
    if (this._state === 'connected') return;
    this.closing = false;
    this.setState({ state: 'connecting' });
    try {
      await this.establish();
      this.setState({ state: 'connected' });
    } catch (e) {
      const err = toSessionError(e, this.options);
      this.setState({ state: 'closed', error: { code: err.code, message: err.message } });
      throw err;
    }
  }

  private async establish(): Promise<void> {
    const o = this.options;
    // Keys are read and decrypted first: a missing passphrase should not cost a connection.
    const jumpAuth = o.jump ? await authConfig(o.jump.auth, o.jump.username) : undefined;
    const auth = await authConfig(o.auth, o.username);
    let sock: Duplex;
    if (o.jump && jumpAuth) {
      const jump = await this.open(o.jump, jumpAuth, await tcpConnect(o.jump.host, o.jump.port, this.timeout()));
      this.jumpClient = jump;
      sock = await new Promise<Duplex>((resolve, reject) => {
        jump.forwardOut('127.0.0.1', 0, o.host, o.port, (err, stream) => {
          if (err) reject(new PortwrightError(jumpForwardError(o, err)));
          else resolve(stream);
        });
      });
    } else {
      sock = await tcpConnect(o.host, o.port, this.timeout());
    }
    const client = await this.open(o, auth, sock);
    this.client = client;
    // Only after ready: a failure from here on is a lost connection, not a failed connect.
    client.on('close', () => this.onClose(client));
    // OpenSSH's sshd turns TCP no-delay on for a connection only when its first session (a shell or
    // an exec) starts. Until then Nagle holds each small reply of a burst (channel confirmations,
    // Docker's answers) until the one before is acknowledged: a round trip more on a slow link, for
    // a connection that only forwards to the Docker socket. A no-op exec starts a session at once.
    const server = (client as unknown as { _remoteVer?: string })._remoteVer ?? '';
    if (/^OpenSSH/i.test(server))
      client.exec(':', (err, stream) => {
        // Its output and end are of no interest; the server closes the channel when ':' exits.
        if (!err) stream.resume().stderr.resume();
      });
  }

  private timeout(): number {
    return this.options.connectTimeoutMs ?? 15_000;
  }

  /** One authenticated ssh2 client over `sock`; the host key is checked before authentication. */
  private open(endpoint: Endpoint, { config: auth, key }: AuthSetup, sock: Duplex): Promise<Ssh2Client> {
    const o = this.options;
    const client = new Client();
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        client.end();
        reject(this.hostKeyError ?? toSessionError(e, endpoint));
      };
      client.once('ready', () => {
        settled = true;
        resolve(client);
      });
      client.on('error', fail);
      client.once('close', () => fail(new Error('connection closed during setup')));
      if (endpoint.auth.kind === 'keyboard-interactive') {
        const answer = endpoint.auth.answer;
        client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
          answer(prompts.map((p) => ({ prompt: p.prompt, echo: p.echo ?? false }))).then(finish, fail);
        });
      }
      this.hostKeyError = undefined;
      client.connect({
        sock,
        username: endpoint.username,
        readyTimeout: this.timeout(),
        keepaliveInterval: o.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: o.keepaliveCountMax ?? 3,
        // Stream-local forwarding is an OpenSSH extension; other servers refuse it themselves,
        // and the tunnel then falls back to another strategy.
        strictVendor: false,
        // Compressed when the server allows it (OpenSSH does, after authentication): Docker's JSON
        // shrinks several times over, and on a slow link fewer bytes are fewer round trips of TCP
        // slow start (50 network lists at once: 75 kB, or about 10 kB). 'none' for servers without.
        algorithms: { compress: ['zlib@openssh.com', 'zlib', 'none'] },
        ...(o.debug ? { debug: o.debug } : {}),
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          Promise.resolve(o.checkHostKey(endpoint.host, endpoint.port, key)).then(
            () => verify(true),
            (e: unknown) => {
              this.hostKeyError = e instanceof PortwrightError ? e : toSessionError(e, endpoint);
              verify(false);
            },
          );
        },
        ...auth,
      });
      if (key) signWithoutQuery(client, key);
    });
  }

  private onClose(client: Ssh2Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.jumpClient?.end();
    this.jumpClient = undefined;
    if (this.closing) {
      this.setState({ state: 'closed' });
      return;
    }
    this.setState({
      state: 'lost',
      error: { code: 'CONNECTION_LOST', message: 'the SSH connection to the device was lost' },
    });
    const r = this.options.reconnect ?? { enabled: true };
    if (r.enabled) this.scheduleReconnect(1, r.initialDelayMs ?? 500, r.maxDelayMs ?? 15_000);
    else this.setState({ state: 'closed' });
  }

  private scheduleReconnect(attempt: number, delayMs: number, maxDelayMs: number): void {
    if (this.closing) return;
    this.setState({ state: 'reconnecting', attempt });
    this.reconnectTimer = setTimeout(() => {
      this.establish().then(
        () => {
          if (this.closing) {
            this.client?.end();
            return;
          }
          this.setState({ state: 'connected', attempt });
        },
        (e: unknown) => {
          const err = toSessionError(e, this.options);
          // A changed host key will not fix itself: stop instead of hammering the device.
          if (err.code.startsWith('HOST_KEY') || err.code === 'AUTH_FAILED') {
            this.setState({ state: 'closed', error: { code: err.code, message: err.message } });
            return;
          }
          this.scheduleReconnect(attempt + 1, Math.min(delayMs * 2, maxDelayMs), maxDelayMs);
        },
      );
    }, delayMs);
  }

  private connected(): Ssh2Client {
    if (!this.client || this._state !== 'connected') {
      throw new PortwrightError({
        code: 'NOT_CONNECTED',
        message: `not connected to ${this.options.host} (${this._state})`,
        hint: 'Wait for the connection to come back, or reconnect the device.',
      });
    }
    return this.client;
  }

  /** Runs a command on the device and collects its output. */
  exec(command: string, opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.execStream(command).then((stream) => {
        let stdout = '';
        let stderr = '';
        const timer = opts.timeoutMs
          ? setTimeout(() => {
              stream.destroy();
              reject(
                new PortwrightError({
                  code: 'EXEC_TIMEOUT',
                  message: `\`${command}\` took longer than ${opts.timeoutMs} ms`,
                }),
              );
            }, opts.timeoutMs)
          : undefined;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('close', (code: number | null) => {
          if (timer) clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
        stream.end(opts.input);
      }, reject);
    });
  }

  /** A raw exec channel: stdin/stdout of a remote command (dial-stdio, socat). */
  execStream(command: string): Promise<ssh2.ClientChannel> {
    const client = this.connected();
    return new Promise((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err)
          reject(new PortwrightError({ code: 'CHANNEL_FAILED', message: `could not run a command: ${err.message}` }));
        else resolve(stream);
      });
    });
  }

  /** An OpenSSH stream-local channel to a Unix socket on the device. */
  openStreamLocal(socketPath: string): Promise<Duplex> {
    const client = this.connected();
    return new Promise((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
        if (err)
          reject(new PortwrightError({ code: 'STREAMLOCAL_REFUSED', message: err.message, detail: err.message }));
        else resolve(stream);
      });
    });
  }

  close(): void {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const had = this.client;
    this.client?.end();
    this.jumpClient?.end();
    this.jumpClient = undefined;
    if (!had && this._state !== 'closed') this.setState({ state: 'closed' });
  }
}

interface AuthSetup {
  config: Partial<ssh2.ConnectConfig>;
  /** The private key, parsed (and decrypted) before any connection is made. */
  key?: ssh2.ParsedKey;
}

/**
 * The ssh2 settings for one way of logging in. `authHandler` names only that method: ssh2's default
 * starts with a `none` request that every real server refuses, one round trip for nothing. (An empty
 * password keeps `none` first: that is how OpenSSH lets in an account without a password.)
 */
async function authConfig(auth: Auth, username: string): Promise<AuthSetup> {
  switch (auth.kind) {
    case 'key': {
      let privateKey: Buffer;
      try {
        privateKey = await readFile(auth.identityFile);
      } catch (e) {
        throw new PortwrightError({
          code: 'KEY_UNREADABLE',
          message: `cannot read the key file ${auth.identityFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          hint: 'Check the path given with --identity.',
        });
      }
      // Parsed (and decrypted, once) here: a missing or wrong passphrase is known before the device
      // is contacted, and ssh2 gets the parsed key instead of parsing the file again.
      const key = parsePrivateKey(privateKey, auth.passphrase, auth.identityFile);
      const publickey: ssh2.PublicKeyAuthMethod = { type: 'publickey', username, key };
      return { config: { authHandler: [publickey] }, key };
    }
    case 'agent': {
      const agent = auth.socket ?? process.env.SSH_AUTH_SOCK;
      if (!agent) {
        throw new PortwrightError({
          code: 'NO_SSH_AGENT',
          message: 'no SSH agent: SSH_AUTH_SOCK is not set',
          hint: 'Start ssh-agent and add your key (ssh-add), or use a key file.',
        });
      }
      return { config: { agent, authHandler: ['agent'] } };
    }
    case 'password':
      return { config: { password: auth.password, authHandler: passwordAuth(username, auth.password) } };
    case 'keyboard-interactive':
      return { config: { tryKeyboard: true, authHandler: ['keyboard-interactive'] } };
  }
}

export function parsePrivateKey(data: Buffer, passphrase: string | undefined, file: string): ssh2.ParsedKey {
  const parsed = ssh2.utils.parseKey(data, passphrase);
  // A file may hold several keys; ssh2 logs in with the first.
  const key = Array.isArray(parsed) ? (parsed as ssh2.ParsedKey[])[0] : parsed;
  if (key instanceof Error || key === undefined) {
    const detail = key?.message ?? 'no key in the file';
    if (/no passphrase given/i.test(detail)) {
      throw new PortwrightError({
        code: 'KEY_PASSPHRASE_NEEDED',
        message: `the key file ${file} is encrypted and needs its passphrase`,
        hint: "Give the key's passphrase, or load the key into ssh-agent.",
        detail,
      });
    }
    if (passphrase !== undefined && /passphrase|decrypt|integrity/i.test(detail)) {
      throw new PortwrightError({
        code: 'KEY_PASSPHRASE',
        message: `the passphrase for ${file} is wrong`,
        hint: 'Check the passphrase, or load the key into ssh-agent.',
        detail,
      });
    }
    throw new PortwrightError({
      code: 'KEY_INVALID',
      message: `${file} is not a private key Portwright can read`,
      hint: 'Use an OpenSSH or PEM private key (ed25519, ecdsa or rsa).',
      detail,
    });
  }
  if (!key.isPrivateKey()) {
    throw new PortwrightError({
      code: 'KEY_INVALID',
      message: `${file} is a public key`,
      hint: 'Give the private key file (the one without .pub).',
    });
  }
  return key;
}

type SignCallback = (data: Buffer, done: (signature: Buffer) => void) => void;
interface ProtocolAuth {
  authPK(username: string, key: unknown, keyAlgo?: string | SignCallback, cbSign?: SignCallback): void;
}

/**
 * Password login as OpenSSH's client does it: the password method, and where the server turns that
 * off but asks through keyboard-interactive instead (PAM's "Password:" prompt, common on devices),
 * the same password as the answer to that one prompt. A wrong password is not tried a second way:
 * that would only count twice against the device's lockout. Prompts for anything else (a one-time
 * code) are left unanswered, so that attempt fails; such devices need the keyboard-interactive method.
 */
function passwordAuth(username: string, password: string): ssh2.AuthHandlerMiddleware {
  const first: ssh2.AuthenticationType[] = password === '' ? ['none', 'password'] : ['password'];
  let answered = false;
  const keyboard: ssh2.KeyboardInteractiveAuthMethod = {
    type: 'keyboard-interactive',
    username,
    prompt: (_name, _instructions, _lang, prompts, finish) => {
      const onlyPassword = prompts.length === 1 && prompts[0]?.echo !== true;
      if (prompts.length === 0) finish([]);
      else if (onlyPassword && !answered) {
        answered = true;
        finish([password]);
      } else finish(prompts.map(() => ''));
    },
  };
  let keyboardTried = false;
  return (authsLeft, _partial, next) => {
    const method = first.shift();
    const offered = authsLeft ?? [];
    if (method) next(method);
    else if (!keyboardTried && offered.includes('keyboard-interactive') && !offered.includes('password')) {
      keyboardTried = true;
      next(keyboard);
    }
    // ssh2 takes false as "no more methods" (its types leave that out).
    else next(false as unknown as ssh2.AuthenticationType);
  };
}

/** The hash ssh2 signs with for each public key algorithm (see getKeyAlgos in ssh2's client.js). */
function signHash(keyAlgo: string | undefined): string | undefined {
  if (keyAlgo === 'rsa-sha2-256') return 'sha256';
  if (keyAlgo === 'rsa-sha2-512') return 'sha512';
  if (keyAlgo === 'ssh-rsa') return 'sha1';
  return undefined;
}

/**
 * ssh2 first asks whether the server would take our key (a publickey "query") and signs only after
 * the yes: one more round trip. With one key file there is nothing to learn from asking, so send the
 * signed request at once (RFC 4252 §7 allows either). ssh2 has no option for this: it wraps the
 * client's protocol object, and leaves ssh2's own path in place if that object is not what we expect,
 * for agent keys, and if signing fails here (ssh2 then reports it as before).
 *
 * (Sending it right behind the service request, before the accept, was tried: sshd's Nagle holds
 * the auth success until the accept is acknowledged anyway, so it saved only sshd's few ms of
 * checking the key, and anything sent in that window breaks delayed compression.)
 */
function signWithoutQuery(client: Ssh2Client, key: ssh2.ParsedKey): void {
  const proto = (client as unknown as { _protocol?: Partial<ProtocolAuth> })._protocol;
  const authPK = proto?.authPK;
  if (!proto || typeof authPK !== 'function') return;
  const query = authPK.bind(proto);
  proto.authPK = (username, pk, keyAlgo, cbSign) => {
    if (cbSign || typeof keyAlgo === 'function' || pk !== key) {
      query(username, pk, keyAlgo, cbSign);
      return;
    }
    query(username, pk, keyAlgo, (data, done) => {
      let signature: Buffer | Error;
      try {
        signature = key.sign(data, signHash(keyAlgo));
      } catch (e) {
        signature = e instanceof Error ? e : new Error(String(e));
      }
      // Nothing has been sent yet: fall back to ssh2's query, whose own signing reports the error.
      if (signature instanceof Error) query(username, pk, keyAlgo);
      else done(signature);
    });
  };
}

/**
 * Everything ssh2 writes within one turn of the event loop leaves as one write: a burst of channel
 * opens or requests then fills whole TCP segments instead of one tiny segment each. Segments are what
 * a fresh (or idle) connection's congestion window counts, ten at first: on a slow link forty-six
 * tiny segments cost three round trips, the same bytes in four segments one. With no-delay on, there
 * is no waiting: the batch goes out when the turn ends.
 */
export function coalesceWrites(sock: net.Socket): void {
  const write = sock.write.bind(sock);
  let corked = false;
  const uncork = (): void => {
    corked = false;
    sock.uncork();
  };
  sock.write = ((...args: Parameters<typeof write>): boolean => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof sock.write;
}

/** Opens the TCP connection ourselves: no-delay on (each Docker call is a few small packets), and a real timeout. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    coalesceWrites(sock);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function jumpForwardError(o: SessionOptions, err: Error): ConstructorParameters<typeof PortwrightError>[0] {
  return {
    code: 'JUMP_FORWARD_FAILED',
    message: `the jump host ${o.jump?.host ?? ''} could not reach ${o.host}:${o.port}`,
    hint: 'Check the device address as the jump host sees it, and that the jump host allows TCP forwarding (AllowTcpForwarding).',
    detail: err.message,
  };
}

/** Translates connect failures into stable codes with plain messages and hints. */
export function toSessionError(e: unknown, where: Pick<Endpoint, 'host' | 'port'>): PortwrightError {
  if (e instanceof PortwrightError) return e;
  const err: Error & { code?: string; level?: string } = e instanceof Error ? e : new Error(String(e));
  const target = `${where.host}:${where.port}`;
  const detail = err.message;
  if (err.code === 'ECONNREFUSED') {
    return new PortwrightError({
      code: 'CONNECT_REFUSED',
      message: `${target} refused the connection`,
      hint: 'Is sshd running on the device, and is this the right port?',
      detail,
    });
  }
  if (err.code === 'ETIMEDOUT' || err.level === 'client-timeout' || /timed out/i.test(detail)) {
    return new PortwrightError({
      code: 'CONNECT_TIMEOUT',
      message: `no answer from ${target}`,
      hint: 'Check the cable, the address and any firewall between you and the device.',
      detail,
    });
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new PortwrightError({
      code: 'HOST_NOT_FOUND',
      message: `cannot resolve ${where.host}`,
      hint: 'Check the name, or use the device IP address.',
      detail,
    });
  }
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') {
    return new PortwrightError({
      code: 'HOST_UNREACHABLE',
      message: `no route to ${target}`,
      hint: 'Is this computer on the device network (address, VLAN, cable)?',
      detail,
    });
  }
  if (err.level === 'client-authentication' || /authentication methods failed/i.test(detail)) {
    return new PortwrightError({
      code: 'AUTH_FAILED',
      message: `${target} did not accept the credentials`,
      hint: 'Check the user name and the key or password; is your public key in ~/.ssh/authorized_keys on the device?',
      detail,
    });
  }
  if (/encrypted private key|passphrase/i.test(detail)) {
    return new PortwrightError({
      code: 'KEY_PASSPHRASE',
      message: 'the key file needs its passphrase (or the passphrase given is wrong)',
      hint: 'Give the passphrase, or load the key into ssh-agent.',
      detail,
    });
  }
  if (/Cannot parse privateKey|Unsupported key format/i.test(detail)) {
    return new PortwrightError({
      code: 'KEY_INVALID',
      message: 'the key file is not a private key Portwright can read',
      hint: 'Use an OpenSSH or PEM private key (ed25519, ecdsa or rsa).',
      detail,
    });
  }
  return new PortwrightError({
    code: 'SSH_FAILED',
    message: `SSH to ${target} failed: ${detail}`,
    hint: 'Try `ssh` to the same address to compare.',
    detail,
  });
}
