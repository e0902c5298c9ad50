// Binds the whole core service to IPC generically: one handler per contract method, sender checked,
// input parsed by the service, errors returned as values (Electron would keep only their message).
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { methodNames, type EventName, type Result } from '../core/contract.js';
import type { Service } from '../core/service.js';
import { EVENT_CHANNEL, INVOKE_PREFIX } from '../preload/channels.js';

export type FrameCheck = (event: IpcMainInvokeEvent) => boolean;

export function bindService(ipcMain: Pick<IpcMain, 'handle'>, service: Service, isTrustedSender: FrameCheck): void {
  for (const name of methodNames) {
    ipcMain.handle(`${INVOKE_PREFIX}${name}`, async (event, input: unknown): Promise<Result<unknown>> => {
      if (!isTrustedSender(event)) {
        return { ok: false, error: { code: 'FORBIDDEN', message: 'request from a page that is not Portwright' } };
      }
      return service.invoke(name, input);
    });
  }
}

/** Forwards core events to a window, as `{event, payload}` on one channel. */
export function forwardEvents(
  service: Service,
  target: () => WebContents | undefined,
  events: EventName[],
): () => void {
  const offs = events.map((event) =>
    service.on(event, (payload) => {
      const wc = target();
      if (wc && !wc.isDestroyed()) wc.send(EVENT_CHANNEL, { event, payload });
    }),
  );
  return () => offs.forEach((off) => off());
}
