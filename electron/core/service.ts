// The core service: the implementation behind the contract, plus the one generic way to call it
// (input parsed with the method's schema, errors returned as values). Pure Node: no Electron, no DOM.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  contract,
  type Api,
  type EventMap,
  type EventName,
  type MethodName,
  type Result,
} from './contract.js';
import { toErrorInfo, zodErrorInfo } from './errors.js';

const require = createRequire(import.meta.url);

export interface ServiceOptions {
  frontEnd: 'electron' | 'cli' | 'serve';
}

export class Service {
  private readonly events = new EventEmitter();
  readonly api: Api;

  constructor(readonly options: ServiceOptions) {
    this.api = {
      appInfo: () =>
        Promise.resolve({
          name: 'Portwright',
          version: packageVersion(),
          frontEnd: this.options.frontEnd,
          platform: `${process.platform}-${process.arch}`,
          node: process.versions.node,
        }),
    };
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

let cachedVersion: string | undefined;
export function packageVersion(): string {
  cachedVersion ??= (require('../../package.json') as { version: string }).version;
  return cachedVersion;
}
