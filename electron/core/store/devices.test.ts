// The device inventory: adding, changing, listing and removing devices, and what it refuses.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './db.js';
import type { DeviceInput } from './schemas.js';
import { steppingClock, tempStore, thrown, type TempStore } from './test-store.js';

let t: TempStore;
afterEach(() => t.cleanup());

const gateway: DeviceInput = { name: 'gw-01', host: '198.18.0.10', auth: 'agent' };

describe('devices', () => {
  it('adds a device with port 22, user root, no tags and empty notes unless told otherwise', () => {
    t = tempStore({ now: () => new Date('2025-03-01T10:00:00Z') });
    expect(t.store.addDevice(gateway)).toEqual({
      name: 'gw-01',
      host: '198.18.0.10',
      port: 22,
      user: 'root',
      auth: 'agent',
      tags: [],
      notes: '',
      createdAt: '2025-03-01T10:00:00.000Z',
      updatedAt: '2025-03-01T10:00:00.000Z',
    });
  });

  it('keeps every field across a close and reopen of the file', () => {
    t = tempStore();
    const full: DeviceInput = {
      name: 'cam.line-3',
      host: 'Cam3.Plant.example',
      port: 2222,
      user: 'admin',
      auth: 'key',
      identityFile: '/home/ana/.ssh/id_ed25519',
      jump: { host: '198.18.0.1', user: 'jump', port: 22 },
      dockerSocket: '/run/balena-engine.sock',
      tags: ['line3', 'camera', 'line3'],
      notes: 'behind the cabinet',
    };
    const added = t.store.addDevice(full);
    t.store.close();
    const reopened = openStore(t.file);
    try {
      expect(reopened.getDevice('cam.line-3')).toEqual(added);
      expect(added).toMatchObject({ host: 'cam3.plant.example', tags: ['line3', 'camera'] });
    } finally {
      reopened.close();
    }
  });

  it('refuses a second device with the same name, ignoring case', () => {
    t = tempStore();
    t.store.addDevice(gateway);
    const error = thrown(() => t.store.addDevice({ ...gateway, name: 'GW-01', host: '198.18.0.11' }));
    expect(error.code).toBe('DEVICE_EXISTS');
    expect(error.message).toContain('GW-01');
  });

  it('lists devices sorted by name', () => {
    t = tempStore();
    for (const name of ['plc-2', 'cam-1', 'gw-01']) t.store.addDevice({ ...gateway, name });
    expect(t.store.listDevices().map((d) => d.name)).toEqual(['cam-1', 'gw-01', 'plc-2']);
  });

  it('updates only what the patch names, clears a field given null, and moves updatedAt', () => {
    t = tempStore({ now: steppingClock() });
    const added = t.store.addDevice({ ...gateway, dockerSocket: '/var/run/docker.sock', notes: 'old' });
    const updated = t.store.updateDevice('gw-01', { port: 2200, dockerSocket: null, notes: undefined });
    expect(updated).toMatchObject({ port: 2200, notes: 'old', host: '198.18.0.10' });
    expect(updated).not.toHaveProperty('dockerSocket');
    expect(updated.createdAt).toBe(added.createdAt);
    expect(updated.updatedAt > added.updatedAt).toBe(true);
  });

  it('refuses a change that would leave key login without a key file', () => {
    t = tempStore();
    t.store.addDevice(gateway);
    const error = thrown(() => t.store.updateDevice('gw-01', { auth: 'key' }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', path: 'identityFile' });
    expect(t.store.getDevice('gw-01')?.auth).toBe('agent');
  });

  it('removes a device and returns what it was', () => {
    t = tempStore();
    t.store.addDevice(gateway);
    expect(t.store.removeDevice('gw-01').host).toBe('198.18.0.10');
    expect(t.store.getDevice('gw-01')).toBeUndefined();
  });

  it('says an unknown device is not found and points to `portwright device list`', () => {
    t = tempStore();
    for (const attempt of [() => t.store.updateDevice('ghost', { port: 23 }), () => t.store.removeDevice('ghost')]) {
      const error = thrown(attempt);
      expect(error.code).toBe('DEVICE_NOT_FOUND');
      expect(error.hint).toContain('portwright device list');
    }
    expect(t.store.getDevice('ghost')).toBeUndefined();
  });

  it('refuses a password field, or any field it does not know, naming it', () => {
    t = tempStore();
    const withPassword = { ...gateway, password: 'hunter2' } as DeviceInput;
    expect(thrown(() => t.store.addDevice(withPassword))).toMatchObject({ code: 'INVALID_INPUT', path: 'password' });
    const nested = { ...gateway, jump: { host: '198.18.0.1', password: 'x' } } as DeviceInput;
    expect(thrown(() => t.store.addDevice(nested))).toMatchObject({ path: 'jump.password' });
    const patch = { password: 'hunter2' } as never;
    t.store.addDevice(gateway);
    expect(thrown(() => t.store.updateDevice('gw-01', patch))).toMatchObject({ path: 'password' });
  });
});
