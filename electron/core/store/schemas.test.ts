// What the inventory accepts as a device name, host, port and user.
import { describe, expect, it } from 'vitest';
import { deviceInputSchema, deviceNameSchema, hostSchema, parseInput, portSchema, userSchema } from './schemas.js';
import { thrown } from './test-store.js';

const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, v: unknown) => schema.safeParse(v).success;

describe('device input', () => {
  it('accepts hostnames, IPv4, IPv6 and link-local IPv6 with a zone', () => {
    for (const host of [
      'gw-01',
      'cam3.plant.example',
      'raspberrypi.local.',
      '198.18.0.10',
      '2001:db8::1',
      'fe80::1%eth0',
    ]) {
      expect(ok(hostSchema, host), host).toBe(true);
    }
  });

  it('refuses hosts with spaces, ports, schemes or a mistyped IPv4', () => {
    for (const host of ['', 'gw 01', ' gw', 'gw:22', 'ssh://gw', 'root@gw', '10.0.0.256', '-gw', 'fe80::1%', 'a..b']) {
      expect(ok(hostSchema, host), host).toBe(false);
    }
  });

  it('stores hostnames in lower case so one host is one host', () => {
    expect(hostSchema.parse('Cam3.Plant.Example')).toBe('cam3.plant.example');
    expect(hostSchema.parse('FE80::A%Eth0')).toBe('fe80::a%Eth0');
  });

  it('accepts names a shell and a file system take without quoting, up to 64 characters', () => {
    expect(ok(deviceNameSchema, 'cam.line-3_b')).toBe(true);
    expect(ok(deviceNameSchema, 'a'.repeat(64))).toBe(true);
    for (const name of ['', '-cam', '.cam', 'cam 1', 'cam/1', 'a'.repeat(65)]) {
      expect(ok(deviceNameSchema, name), name).toBe(false);
    }
  });

  it('accepts ports 1 to 65535 only', () => {
    expect([0, 1, 22, 65535, 65536, 22.5].map((p) => ok(portSchema, p))).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('refuses user names with spaces or shell characters', () => {
    expect(ok(userSchema, 'root')).toBe(true);
    expect(ok(userSchema, 'ro ot')).toBe(false);
    expect(ok(userSchema, 'root;reboot')).toBe(false);
  });

  it('reports the first problem with its path and how many more there are', () => {
    const error = thrown(() => parseInput(deviceInputSchema, { name: 'gw', host: 'a b', port: 0, auth: 'agent' }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', path: 'host', hint: '1 more problem(s) in the same input' });
  });
});
