// The saved devices, their live connection state, and the first-connection / changed-key decisions.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { DeviceTestResult, ErrorInfo } from '../../../electron/core/contract';
import type { Device, DeviceInput } from '../../../electron/core/store/schemas';
import { ApiError, api, on } from '../api';
import { hostKeyQuestion, type HostKeyQuestion } from '../lib/host-key';

export type ConnectionState =
  | 'unknown'
  | 'connecting'
  | 'connected'
  | 'lost'
  | 'reconnecting'
  | 'closed'
  | 'failed'
  | 'key-unknown'
  | 'key-changed';

export interface Secrets {
  password?: string;
  passphrase?: string;
}

/** How a connection attempt ended: connected, needs a decision about the host key, or failed. */
export type ConnectOutcome =
  | { kind: 'connected'; result: DeviceTestResult }
  | { kind: 'host-key'; question: HostKeyQuestion }
  | { kind: 'failed'; error: ErrorInfo };

function asInfo(e: unknown): ErrorInfo {
  return e instanceof ApiError ? e : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export const useDevicesStore = defineStore('devices', () => {
  const list = ref<Device[]>([]);
  const loading = ref(false);
  const error = ref<ErrorInfo>();
  const states = ref<Record<string, ConnectionState>>({});
  const lastTest = ref<Record<string, DeviceTestResult>>({});

  on('connection', (c) => {
    // A connection closed on purpose (a test's own, or an idle one) says nothing about the device:
    // the row keeps what the last attempt found. Losing a live one does.
    if (c.state === 'closed' && !c.error) return;
    states.value = { ...states.value, [c.device]: c.state as ConnectionState };
  });

  async function load(): Promise<void> {
    loading.value = true;
    error.value = undefined;
    try {
      list.value = await api.deviceList({});
    } catch (e) {
      error.value = asInfo(e);
    } finally {
      loading.value = false;
    }
  }

  /** Connects once; an unknown or changed host key comes back as a question, never as trust. */
  async function connect(name: string, opts: { hostKey?: string } & Secrets = {}): Promise<ConnectOutcome> {
    states.value = { ...states.value, [name]: 'connecting' };
    try {
      const result = await api.deviceTest({ target: name, ...opts });
      lastTest.value = { ...lastTest.value, [name]: result };
      states.value = { ...states.value, [name]: 'connected' };
      return { kind: 'connected', result };
    } catch (e) {
      const info = asInfo(e);
      const question = hostKeyQuestion(info);
      const state: ConnectionState = question
        ? question.kind === 'unknown'
          ? 'key-unknown'
          : 'key-changed'
        : 'failed';
      states.value = { ...states.value, [name]: state };
      return question ? { kind: 'host-key', question } : { kind: 'failed', error: info };
    }
  }

  async function add(input: DeviceInput): Promise<Device> {
    const saved = await api.deviceAdd({ device: input });
    await load();
    return saved;
  }

  async function update(name: string, input: DeviceInput): Promise<void> {
    await api.deviceUpdate({
      name,
      patch: {
        host: input.host,
        ...(input.port !== undefined ? { port: input.port } : {}),
        ...(input.user !== undefined ? { user: input.user } : {}),
        ...(input.auth !== undefined ? { auth: input.auth } : {}),
        identityFile: input.identityFile ?? null,
        jump: input.jump ?? null,
        dockerSocket: input.dockerSocket ?? null,
      },
    });
    await load();
  }

  async function remove(name: string): Promise<void> {
    await api.deviceRemove({ name });
    await load();
  }

  return { list, loading, error, states, lastTest, load, connect, add, update, remove };
});
