// The renderer's only door to the core: `window.api` from the Electron preload. Results come back as
// values and are turned into typed errors here, so views just await and catch.
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

function bridge(): Bridge {
  const b = window.api;
  if (!b) throw new ApiError(NO_CORE);
  return b;
}

export function hasCore(): boolean {
  return window.api !== undefined;
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
  return window.api ? window.api.on(event, listener) : () => undefined;
}
