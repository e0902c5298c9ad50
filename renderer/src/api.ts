// The renderer's only door to the core: `window.api` from the Electron preload, or the WebSocket of
// `portwright serve`. Results come back as values and are turned into typed errors here, so views
// just await and catch.
import type {
  Api,
  ErrorInfo,
  EventMap,
  EventName,
  MethodInput,
  MethodName,
  MethodOutput,
  Result,
} from '../../electron/core/contract';

export class ApiError extends Error implements ErrorInfo {
  readonly code: string;
  readonly hint?: string;
  readonly path?: string;
  readonly detail?: string;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    if (info.hint !== undefined) this.hint = info.hint;
    if (info.path !== undefined) this.path = info.path;
    if (info.detail !== undefined) this.detail = info.detail;
  }
}

type Bridge = { [M in MethodName]: (input: MethodInput<M>) => Promise<Result<MethodOutput<M>>> } & {
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
};

declare global {
  interface Window {
    api?: Bridge;
  }
}

export const NO_CORE: ErrorInfo = {
  code: 'NO_CORE',
  message: 'This page is not connected to a Portwright core',
  hint: 'Open Portwright as the desktop app, or run portwright serve and open the address it prints.',
};

/** Under `portwright serve` the page carries this mark, and the core is a WebSocket away. */
function servedByCore(): boolean {
  return document.querySelector('meta[name="portwright-core"][content="websocket"]') !== null;
}

type Listener = (payload: unknown) => void;

/** The same Bridge over `portwright serve`'s WebSocket: calls by id, events pushed. */
function socketBridge(): Bridge {
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const listeners = new Map<string, Set<Listener>>();
  let socket: WebSocket | undefined;
  let opened: Promise<WebSocket> | undefined;
  let nextId = 1;
  const lost: Result<never> = {
    ok: false,
    error: {
      code: 'CORE_DISCONNECTED',
      message: 'The connection to portwright serve was lost',
      hint: 'Check that portwright serve is still running, then reload the page.',
    },
  };
  const open = (): Promise<WebSocket> => {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    opened ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
      ws.onopen = () => {
        socket = ws;
        resolve(ws);
      };
      ws.onmessage = (m: MessageEvent<string>) => {
        const msg = JSON.parse(m.data) as { id?: number; result?: Result<unknown>; event?: string; payload?: unknown };
        if (typeof msg.id === 'number' && msg.result) {
          pending.get(msg.id)?.(msg.result);
          pending.delete(msg.id);
        } else if (msg.event) for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
      };
      ws.onclose = () => {
        socket = undefined;
        opened = undefined;
        for (const done of pending.values()) done(lost);
        pending.clear();
        reject(new ApiError(lost.error));
      };
    });
    return opened;
  };
  const invoke = async (method: string, input: unknown): Promise<Result<unknown>> => {
    let ws: WebSocket;
    try {
      ws = await open();
    } catch {
      return lost;
    }
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, input }));
    });
  };
  void open().catch(() => undefined);
  return new Proxy({} as Bridge, {
    get: (_t, key: string) => {
      if (key === 'on')
        return (event: string, listener: Listener) => {
          const set = listeners.get(event) ?? new Set<Listener>();
          listeners.set(event, set);
          set.add(listener);
          return () => set.delete(listener);
        };
      return (input: unknown) => invoke(key, input);
    },
  });
}

let served: Bridge | undefined;

function currentBridge(): Bridge | undefined {
  if (window.api) return window.api;
  if (servedByCore()) served ??= socketBridge();
  return served;
}

function bridge(): Bridge {
  const b = currentBridge();
  if (!b) throw new ApiError(NO_CORE);
  return b;
}

export function hasCore(): boolean {
  return currentBridge() !== undefined;
}

export async function call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const fn = bridge()[method] as (input: MethodInput<M>) => Promise<Result<MethodOutput<M>>>;
  const result = await fn(input);
  if (!result.ok) throw new ApiError(result.error);
  return result.data;
}

export const api = new Proxy({} as Api, {
  get: (_t, method: string) => (input: unknown) => call(method as MethodName, input as never),
});

export function on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
  const b = currentBridge();
  return b ? b.on(event, listener) : () => undefined;
}
