// Port discovery: the script run for real on this machine under busybox ash and dash, and hand-written device outputs.
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PORTS_SCRIPT, busOf, naturalCompare, parsePorts, parseRoutes } from './discover.js';
import type { Port } from './types.js';

function fixture(name: string): Port[] {
  return parsePorts(readFileSync(new URL(`./fixtures/${name}.txt`, import.meta.url), 'utf8'));
}

function port(ports: Port[], name: string): Port {
  const found = ports.find((p) => p.name === name);
  if (!found) throw new Error(`no port ${name} in ${ports.map((p) => p.name).join(', ')}`);
  return found;
}

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.each([
  ['busybox ash', 'busybox', ['sh']],
  ['dash', 'dash', []],
])('the port script run on this machine under %s', (_label, shell, args) => {
  it.skipIf(!has(shell))('finds lo as loopback and eth0 with its real MAC', () => {
    // Read-only: the script only reads sysfs, /proc and `ip … show`.
    const output = execFileSync(shell, [...args, '-c', PORTS_SCRIPT], { encoding: 'utf8' });
    expect(output.trimEnd().endsWith('@@end')).toBe(true);
    const ports = parsePorts(output);

    const lo = port(ports, 'lo');
    expect(lo.kind).toBe('loopback');
    expect(lo.isHardwarePort).toBe(false);
    expect(lo.addresses).toContainEqual({ family: 4, address: '127.0.0.1', prefix: 8, scope: 'host' });

    const eth0 = port(ports, 'eth0');
    expect(eth0.mac).toBe(readFileSync('/sys/class/net/eth0/address', 'utf8').trim());
    expect(eth0.isHardwarePort).toBe(true);
    expect(eth0.bus).not.toBe('virtual');
    // Links resolved with `cd -P` in the shell itself: the driver is the real one.
    expect(eth0.driver).toBe(basename(realpathSync('/sys/class/net/eth0/device/driver')));
    expect(ports[0]?.isHardwarePort).toBe(true);
  });
});

describe('a Raspberry-Pi-like board (busybox ip)', () => {
  const ports = fixture('raspberry-pi');

  it('shows the USB ethernet and the SDIO Wi-Fi as hardware ports, the management one marked', () => {
    expect(port(ports, 'eth0')).toMatchObject({
      kind: 'ethernet',
      bus: 'usb',
      driver: 'smsc95xx',
      wired: true,
      isHardwarePort: true,
      management: true,
      speedMbps: 100,
      duplex: 'full',
      carrier: true,
    });
    expect(port(ports, 'wlan0')).toMatchObject({
      kind: 'wireless',
      bus: 'sdio',
      wired: false,
      isHardwarePort: true,
      management: false,
      speedMbps: null,
    });
  });

  it('reads the VLAN id and parent from /proc/net/vlan/config', () => {
    expect(port(ports, 'eth0.100')).toMatchObject({
      kind: 'vlan',
      vlan: { id: 100, parent: 'eth0' },
      isHardwarePort: true,
      wired: true,
      bus: 'virtual',
      management: false,
    });
  });

  it('tells Docker bridges, the container veth and the macvlan shim apart from ports', () => {
    expect(port(ports, 'docker0')).toMatchObject({ kind: 'docker-bridge', isHardwarePort: false });
    expect(port(ports, 'br-0123456789ab')).toMatchObject({
      kind: 'docker-bridge',
      operState: 'down',
      carrier: false,
    });
    expect(port(ports, 'veth3f2a1b7')).toMatchObject({ kind: 'veth', master: 'docker0', isHardwarePort: false });
    expect(port(ports, 'mvl-shim')).toMatchObject({ kind: 'macvlan', lower: 'eth0', isHardwarePort: false });
    expect(port(ports, 'lo')).toMatchObject({ kind: 'loopback', isHardwarePort: false });
  });

  it('lists v4 and v6 addresses with their prefixes and each port its own routes', () => {
    const eth0 = port(ports, 'eth0');
    expect(eth0.addresses).toEqual([
      { family: 4, address: '192.168.1.50', prefix: 24, scope: 'global' },
      { family: 6, address: 'fd12:3456:789a:1::50', prefix: 64, scope: 'global' },
      { family: 6, address: 'fe80::ba27:ebff:fe4d:129a', prefix: 64, scope: 'link' },
    ]);
    // The busybox-only `multicast ff00::/8` route says nothing about where traffic goes.
    expect(eth0.routes).toEqual([
      { dst: '0.0.0.0/0', via: '192.168.1.1', family: 4 },
      { dst: '192.168.1.0/24', family: 4 },
      { dst: 'fd12:3456:789a:1::/64', family: 6 },
      { dst: 'fe80::/64', family: 6 },
      { dst: '::/0', via: 'fe80::1', family: 6 },
    ]);
    expect(port(ports, 'mvl-shim').addresses).toEqual([
      { family: 4, address: '192.168.1.200', prefix: 32, scope: 'global' },
    ]);
    expect(port(ports, 'mvl-shim').routes).toEqual([{ dst: '192.168.1.192/27', family: 4 }]);
  });

  it('puts hardware ports first, each group in name order', () => {
    expect(ports.map((p) => p.name)).toEqual([
      'eth0',
      'eth0.100',
      'wlan0',
      'br-0123456789ab',
      'docker0',
      'lo',
      'mvl-shim',
      'veth3f2a1b7',
    ]);
  });
});

describe('an industrial PC with two bonded PCI NICs (iproute2)', () => {
  const ports = fixture('industrial-pc');

  it('shows the bond and its PCI members; an unplugged member has no carrier and no speed', () => {
    expect(port(ports, 'bond0')).toMatchObject({ kind: 'bond', bus: 'virtual', isHardwarePort: true, wired: true });
    expect(port(ports, 'enp1s0')).toMatchObject({
      kind: 'ethernet',
      bus: 'pci',
      driver: 'igb',
      master: 'bond0',
      carrier: true,
      speedMbps: 1000,
    });
    expect(port(ports, 'enp2s0')).toMatchObject({
      kind: 'ethernet',
      bus: 'pci',
      master: 'bond0',
      operState: 'down',
      carrier: false,
      speedMbps: null,
      duplex: null,
    });
  });

  it('treats an administratively down NIC, whose carrier cannot be read, as without carrier', () => {
    expect(port(ports, 'enp3s0')).toMatchObject({ kind: 'ethernet', operState: 'down', carrier: false });
  });

  it('marks the bond holding the SSH server address and the NICs under it as management', () => {
    const managed = ports.filter((p) => p.management).map((p) => p.name);
    expect(managed.sort()).toEqual(['bond0', 'enp1s0', 'enp2s0']);
  });

  it('reads addresses and routes from iproute2 output', () => {
    const bond = port(ports, 'bond0');
    expect(bond.addresses).toContainEqual({ family: 4, address: '10.10.0.5', prefix: 24, scope: 'global' });
    expect(bond.addresses).toContainEqual({ family: 6, address: '2001:db8:10::5', prefix: 64, scope: 'global' });
    expect(bond.routes).toContainEqual({ dst: '0.0.0.0/0', via: '10.10.0.1', family: 4 });
    expect(bond.routes).toContainEqual({ dst: '::/0', via: 'fe80::1', family: 6 });
    expect(port(ports, 'docker0')).toMatchObject({
      kind: 'docker-bridge',
      routes: [{ dst: '172.17.0.0/16', family: 4 }],
    });
  });
});

describe('a simulated lab device wired with veth pairs', () => {
  const ports = fixture('lab-device');

  it('counts free veths as wired hardware ports, in natural order', () => {
    expect(ports.map((p) => p.name)).toEqual(['eth0', 'eth1', 'eth2', 'eth10', 'lo']);
    for (const name of ['eth0', 'eth1', 'eth2', 'eth10']) {
      expect(port(ports, name)).toMatchObject({ kind: 'veth', bus: 'virtual', wired: true, isHardwarePort: true });
    }
    expect(port(ports, 'eth0').management).toBe(true);
    expect(port(ports, 'eth2')).toMatchObject({ operState: 'lowerlayerdown', carrier: false });
  });

  it('recognises a veth from sysfs alone when `ip -d` is missing, by its peer link', () => {
    const withoutDetails = readFileSync(new URL('./fixtures/lab-device.txt', import.meta.url), 'utf8').replace(
      /@@link\n[\s\S]*?(?=@@route4)/,
      '@@link\n',
    );
    const eth2 = parsePorts(withoutDetails).find((p) => p.name === 'eth2');
    expect(eth2).toMatchObject({ kind: 'veth', isHardwarePort: true });
  });
});

describe('classification helpers', () => {
  it('finds the bus from the device path, USB and SDIO before the bus their controller sits on', () => {
    expect(busOf('/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0')).toBe('usb');
    expect(busOf('/sys/devices/platform/soc/fe340000.mmc/mmc_host/mmc1/mmc1:0001/mmc1:0001:1')).toBe('sdio');
    expect(busOf('/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0')).toBe('pci');
    expect(busOf('/sys/devices/platform/scb/fd580000.ethernet')).toBe('platform');
    expect(busOf(undefined)).toBe('virtual');
    expect(busOf('/sys/devices/vio/30000002')).toBe('unknown');
  });

  it('tells an ipvlan from a macvlan by the MAC it shares with its lower', () => {
    const output = [
      '@@iface eth0',
      'address=aa:bb:cc:00:00:01',
      'type=1',
      'devpath=/sys/devices/platform/eth',
      '@@iface ipvl0',
      'address=aa:bb:cc:00:00:01',
      'type=1',
      'lower=eth0',
      '@@end',
    ].join('\n');
    expect(parsePorts(output).find((p) => p.name === 'ipvl0')?.kind).toBe('ipvlan');
  });

  it('gives each device of a multipath route its own entry', () => {
    const routes = parseRoutes(
      [
        'default proto ra metric 1024 pref medium',
        '\tnexthop via fe80::1 dev eth0 weight 1',
        '\tnexthop via fe80::2 dev eth1 weight 1',
      ],
      6,
    );
    expect(routes.get('eth1')).toEqual([{ dst: '::/0', via: 'fe80::2', family: 6 }]);
  });

  it('orders names naturally', () => {
    expect(['eth10', 'eth2', 'eth1'].sort(naturalCompare)).toEqual(['eth1', 'eth2', 'eth10']);
  });
});
