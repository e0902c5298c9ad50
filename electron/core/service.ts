// The core service: the implementation behind the contract, plus the one generic way to call it
// (input parsed with the method's schema, errors returned as values). Pure Node: no Electron, no DOM.
import type Docker from 'dockerode';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  connectSchema,
  contract,
  type Api,
  type DeviceDetails,
  type EventMap,
  type EventName,
  type MethodName,
  type Result,
} from './contract.js';
import { Connections, secretAccount, type ConnectOptions } from './devices/connections.js';
import { fetchContainers, fetchEngine, fetchNetworks } from './docker/inventory.js';
import { translateDockerError } from './docker/errors.js';
import { toErrorInfo, zodErrorInfo } from './errors.js';
import { discoverPorts } from './ports/device-ports.js';
import {
  applyOnDevice,
  attachOnDevice,
  checkOffline,
  checkOnDevice,
  detachOnDevice,
  diffOnDevice,
  exportFromDevice,
  removeNetworkOnDevice,
  type PlanContext,
} from './plan/operations.js';
import { openStore, type Store } from './store/db.js';
import { MemorySecretStore, type SecretStore } from './store/secret-store.js';
import { appDataDir, storePath } from './store/paths.js';

const require = createRequire(import.meta.url);

export interface ServiceOptions {
  frontEnd: 'electron' | 'cli' | 'serve';
  /** The inventory database; default in the app data folder (PORTWRIGHT_HOME overrides it). */
  storeFile?: string;
  /** known_hosts files read (never written); default ~/.ssh/known_hosts and known_hosts2. */
  knownHostsPaths?: string[];
  /** Where passwords go: the desktop app's OS keyring; by default only this process's memory. */
  secrets?: (store: Store) => SecretStore;
}

export class Service {
  private readonly events = new EventEmitter();
  private store: Store | undefined;
  private secretStore: SecretStore | undefined;
  readonly connections: Connections;
  readonly api: Api;

  constructor(readonly options: ServiceOptions) {
    this.connections = new Connections({
      store: () => this.openedStore(),
      secrets: () => this.secrets(),
      ...(options.knownHostsPaths ? { knownHostsPaths: options.knownHostsPaths } : {}),
      onState: (device, c) =>
        this.emit('connection', {
          device,
          state: c.state,
          ...(c.error ? { error: c.error } : {}),
          ...(c.attempt !== undefined ? { attempt: c.attempt } : {}),
        }),
    });
    const withDocker = async <T>(
      input: { target: string } & ConnectOptions,
      read: (docker: Docker) => Promise<T>,
    ): Promise<T> => {
      const { target, ...connect } = input;
      const conn = await this.connections.get(target, connect);
      try {
        return await read(conn.docker);
      } catch (e) {
        throw translateDockerError(e);
      }
    };
    this.api = {
      appInfo: () =>
        Promise.resolve({
          name: 'Portwright',
          version: packageVersion(),
          frontEnd: this.options.frontEnd,
          platform: `${process.platform}-${process.arch}`,
          node: process.versions.node,
        }),
      deviceAdd: async ({ device, connect }) => {
        const store = this.openedStore();
        const saved = store.addDevice(device);
        if (connect && (connect.acceptNewHostKey || connect.hostKey)) {
          try {
            const conn = await this.connections.connect(saved.name, connect);
            conn.close();
          } catch (e) {
            // A device whose first connection failed is not kept half-added.
            store.removeDevice(saved.name);
            throw e;
          }
        }
        store.audit({
          device: saved.name,
          action: 'device.add',
          detail: { host: saved.host, port: saved.port, user: saved.user, auth: saved.auth },
          result: 'ok',
        });
        return this.details(saved.name);
      },
      deviceList: () => Promise.resolve(this.openedStore().listDevices()),
      deviceShow: ({ name }) => Promise.resolve(this.details(name)),
      deviceUpdate: ({ name, patch }) => {
        const store = this.openedStore();
        const before = store.requireDevice(name);
        const after = store.updateDevice(name, patch);
        this.connections.drop(before.name);
        const changed = Object.keys(patch).filter(
          (k) => JSON.stringify(before[k as keyof typeof before]) !== JSON.stringify(after[k as keyof typeof after]),
        );
        store.audit({ device: after.name, action: 'device.update', detail: { changed }, result: 'ok' });
        return Promise.resolve(this.details(after.name));
      },
      deviceRemove: async ({ name }) => {
        const store = this.openedStore();
        const removed = store.removeDevice(name);
        this.connections.drop(removed.name);
        // Another saved device may be the same host under a second name: its keys stay trusted.
        if (!store.listDevices().some((d) => d.host === removed.host && d.port === removed.port)) {
          store.forgetHostKeys(removed.host, removed.port);
        }
        await this.secrets().delete(secretAccount(removed.name, 'password'));
        await this.secrets().delete(secretAccount(removed.name, 'passphrase'));
        store.audit({
          device: removed.name,
          action: 'device.remove',
          detail: { host: removed.host, port: removed.port },
          result: 'ok',
        });
        return removed;
      },
      deviceTest: async (input) => {
        const { target, ...connect } = input;
        const conn = await this.connections.connect(target, connect);
        try {
          const t0 = performance.now();
          await conn.docker.ping();
          const callMs = Math.round((performance.now() - t0) * 10) / 10;
          const engine = await fetchEngine(conn.docker).catch((e: unknown) => {
            throw translateDockerError(e);
          });
          return {
            target: conn.target.label,
            user: conn.target.endpoint?.username ?? '',
            strategy: conn.strategy,
            socketPath: conn.socketPath,
            engine,
            callMs,
          };
        } finally {
          conn.close();
        }
      },
      ports: async (input) => {
        const { target, ...connect } = input;
        const conn = await this.connections.get(target, connect);
        return discoverPorts(conn);
      },
      networks: (input) => withDocker(input, fetchNetworks),
      containers: (input) => withDocker(input, fetchContainers),
      planCheck: async (input) => {
        const { text, target } = input;
        const connect = connectOf(input);
        if (target === undefined) return checkOffline(text);
        return checkOnDevice(text, await this.connections.get(target, connect));
      },
      planDiff: async ({ text, source, target, ...connect }) =>
        diffOnDevice(text, source, await this.connections.get(target, connect)),
      planApply: async ({ text, source, target, confirmWithinSeconds, ...connect }) =>
        applyOnDevice(
          await this.planContext(target, connect),
          text,
          source,
          confirmWithinSeconds === undefined
            ? undefined
            : { seconds: confirmWithinSeconds, fresh: () => this.connections.connect(target, connect) },
        ),
      planExport: async ({ target, name, ...connect }) =>
        exportFromDevice(await this.connections.get(target, connect), name),
      networkRemove: async ({ target, name, ...connect }) =>
        removeNetworkOnDevice(await this.planContext(target, connect), name),
      attach: async ({ target, container, network, ipv4, ipv6, aliases, ...connect }) =>
        attachOnDevice(await this.planContext(target, connect), {
          container,
          network,
          ...(ipv4 !== undefined ? { ipv4 } : {}),
          ...(ipv6 !== undefined ? { ipv6 } : {}),
          ...(aliases !== undefined ? { aliases } : {}),
        }),
      audit: (query) => Promise.resolve(this.openedStore().listAudit(query)),
      detach: async ({ target, container, network, ...connect }) =>
        detachOnDevice(await this.planContext(target, connect), container, network),
    };
  }

  private async planContext(target: string, connect: ConnectOptions): Promise<PlanContext> {
    const conn = await this.connections.get(target, connect);
    return {
      conn,
      store: this.openedStore(),
      onProgress: (p) => this.emit('progress', { ...p, device: conn.target.label }),
    };
  }

  private secrets(): SecretStore {
    this.secretStore ??= this.options.secrets ? this.options.secrets(this.openedStore()) : new MemorySecretStore();
    return this.secretStore;
  }

  private openedStore(): Store {
    this.store ??= openStore(this.options.storeFile ?? storePath(appDataDir()));
    return this.store;
  }

  private details(name: string): DeviceDetails {
    const store = this.openedStore();
    const device = store.requireDevice(name);
    const channel = store.getChannel(device.name);
    return {
      ...device,
      trustedHostKeys: store.getTrustedHostKeys(device.host, device.port),
      ...(channel ? { channel } : {}),
    };
  }

  /** Closes connections and the inventory. */
  dispose(): void {
    this.connections.closeAll();
    this.store?.close();
    this.store = undefined;
  }

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    this.events.emit(event, payload);
  }

  /** Calls a method with untrusted input: parse, run, and never throw. */
  async invoke(method: string, rawInput: unknown): Promise<Result<unknown>> {
    if (!Object.hasOwn(contract, method)) {
      return {
        ok: false,
        error: {
          code: 'UNKNOWN_METHOD',
          message: `no method "${method}"`,
          hint: 'Update the front end and the core together.',
        },
      };
    }
    const name = method as MethodName;
    const parsed = contract[name].input.safeParse(rawInput ?? {});
    if (!parsed.success) return { ok: false, error: zodErrorInfo(parsed.error) };
    try {
      const call = this.api[name] as (input: unknown) => Promise<unknown>;
      return { ok: true, data: await call(parsed.data) };
    } catch (e) {
      return { ok: false, error: toErrorInfo(e) };
    }
  }
}

/** Just the connect options of a method's input. */
function connectOf(input: ConnectOptions & Record<string, unknown>): ConnectOptions {
  const keys = Object.keys(connectSchema.shape) as (keyof ConnectOptions)[];
  return Object.fromEntries(keys.filter((k) => input[k] !== undefined).map((k) => [k, input[k]]));
}

let cachedVersion: string | undefined;
export function packageVersion(): string {
  cachedVersion ??= (require('../../package.json') as { version: string }).version;
  return cachedVersion;
}
