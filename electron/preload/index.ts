// The page's only door to the core: one method per contract method, plus on(event).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { methodNames, type EventMap, type EventName, type Result } from '../core/contract.js';
import { EVENT_CHANNEL, INVOKE_PREFIX } from './channels.js';

const methods = Object.fromEntries(
  methodNames.map((name) => [
    name,
    (input: unknown) => ipcRenderer.invoke(`${INVOKE_PREFIX}${name}`, input) as Promise<Result<unknown>>,
  ]),
);

function on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
  const handler = (_e: IpcRendererEvent, message: { event: string; payload: unknown }): void => {
    if (message.event === event) listener(message.payload as EventMap[E]);
  };
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => ipcRenderer.removeListener(EVENT_CHANNEL, handler);
}

contextBridge.exposeInMainWorld('api', { ...methods, on });
