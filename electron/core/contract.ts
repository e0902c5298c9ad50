// The one contract between the core and its front ends: every method's input schema and output
// type, and the events. Pure (zod and types only), so the renderer may import its types.
import { z } from 'zod';

export interface ErrorInfo {
  /** Stable, machine-readable, e.g. `HOST_KEY_CHANGED`, `INVALID_INPUT`. */
  code: string;
  message: string;
  hint?: string;
  /** Where in the input, e.g. `networks[1].ipv4.gateway`. */
  path?: string;
  /** The other side's own words (daemon, server), kept alongside ours. */
  detail?: string;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: ErrorInfo };

export interface AppInfo {
  name: string;
  version: string;
  /** Which front end is running the core: `electron`, `cli` or `serve`. */
  frontEnd: string;
  platform: string;
  node: string;
}

export interface MethodSpec<I extends z.ZodType, O> {
  input: I;
  description: string;
  /** Type-level only: the method's result. */
  readonly output?: O;
}

function method<O>() {
  return <I extends z.ZodType>(input: I, description: string): MethodSpec<I, O> => ({ input, description });
}

/** Every method a user can call, once. Front ends bind this table generically. */
export const contract = {
  appInfo: method<AppInfo>()(z.object({}).strict(), 'Version and platform of the Portwright core'),
};

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type MethodInput<M extends MethodName> = z.input<Contract[M]['input']>;
export type MethodOutput<M extends MethodName> = Contract[M] extends MethodSpec<z.ZodType, infer O> ? O : never;

/** The service as every front end sees it. */
export type Api = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> };

/** Events the core emits (connection state, progress); the payload type per event name. */
export interface EventMap {
  log: { level: 'info' | 'warn' | 'error'; message: string };
}
export type EventName = keyof EventMap;

export const methodNames = Object.keys(contract) as MethodName[];
