// IPC channel names shared by the main process binding and the preload.
export const INVOKE_PREFIX = 'pw:';
export const EVENT_CHANNEL = 'pw:event';
