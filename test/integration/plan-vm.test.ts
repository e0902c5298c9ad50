// Plans on the VM device (Debian's kernel: ipvlan and 802.1Q exist): ipvlan L2 answered from the
// field peer, macvlan on a VLAN parent with its tagged frames seen on the wire, re-apply and export
// as no-ops, and the kernel's one-driver-per-parent rule caught at check.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  PlanApplyResult,
  PlanCheckResult,
  PlanDiffResult,
  PlanExportResult,
} from '../../electron/core/contract.js';
import { Service } from '../../electron/core/service.js';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { connect, dockerOver, exec, labSkipReason, type SshClient } from './support.js';

const skip = await labSkipReason(true);

describe.skipIf(skip)('plans on the VM device', () => {
  let lab: Lab;
  let home: string;
  let service: Service;
  let client: SshClient;
  let camera: string;

  async function call<T>(method: string, input: Record<string, unknown>): Promise<T> {
    const r = await service.invoke(method, { target: 'pv', ...input });
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.data as T;
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pw-planvm-'));
    lab = await startLab({ devices: [{ name: 'pv', kind: 'vm' }] });
    const d = lab.device('pv');
    client = (await connect(lab, d)).client;
    const docker = dockerOver(client);
    for (const name of ['camera', 'vlanclient']) {
      const c = await docker.createContainer({ name, Image: lab.info.image, Cmd: ['sleep', '3600'] });
      await c.start();
    }
    service = new Service({ frontEnd: 'cli', storeFile: join(home, 'inventory.db'), knownHostsPaths: [] });
    const added = await service.invoke('deviceAdd', {
      device: { name: 'pv', host: d.host, port: d.port, user: 'root', auth: 'key', identityFile: lab.info.clientKey },
      connect: { acceptNewHostKey: true },
    });
    expect(added.ok).toBe(true);
    camera = lab.peer('pv', 'eth1').address.replace(/\.2$/, '.20');
  });
  afterAll(async () => {
    service?.dispose();
    client?.end();
    if (lab) await stopLab(lab);
    await rm(home, { recursive: true, force: true });
  });

  const plan = (): string => {
    const peer = lab.peer('pv', 'eth1');
    return stringify({
      version: 1,
      name: 'vm-field',
      networks: [
        {
          name: 'cams',
          driver: 'ipvlan',
          port: 'eth1',
          mode: 'l2',
          ipv4: { subnet: peer.subnet, gateway: peer.address },
        },
        { name: 'tagged', driver: 'macvlan', port: 'eth2', vlan: 300, ipv4: { subnet: '198.18.230.0/24' } },
      ],
      attachments: [
        { container: 'camera', network: 'cams', ipv4: camera },
        { container: 'vlanclient', network: 'tagged', ipv4: '198.18.230.20' },
      ],
    });
  };

  it("sees ipvlan and 802.1Q in the device's kernel", async () => {
    const r = await call<PlanCheckResult>('planCheck', { text: plan() });
    expect(r.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
  });

  it('applies ipvlan L2 on eth1: the field peer pings the camera at its static address', async () => {
    const r = await call<PlanApplyResult>('planApply', { text: plan() });
    expect(r.ok).toBe(true);
    const ping = await lab.peerExec('pv', 'eth1', `busybox ping -c 3 -W 3 ${camera}`, { allowFail: true });
    expect(ping.stdout).toMatch(/[1-3] packets received/);
  });

  it('puts the VLAN network on eth2.300: tagged frames leave on the wire', async () => {
    expect((await exec(client, 'cat /proc/net/vlan/eth2.300')).stdout).toMatch(/VID: 300/);
    // The peer's kernel has no 802.1Q: capturing the tagged ARP requests on its side is the proof.
    const capture = lab.peerExec(
      'pv',
      'eth2',
      "timeout 30 tcpdump -l -e -n -c 2 -i eth0 'vlan 300 and arp' 2>/dev/null",
      {
        allowFail: true,
        timeoutMs: 40_000,
      },
    );
    await new Promise((r) => setTimeout(r, 1500));
    await exec(client, 'docker exec vlanclient ping -c 4 -W 1 198.18.230.2');
    expect((await capture).stdout).toMatch(/vlan 300, .*ARP.*who-has 198\.18\.230\.2 tell 198\.18\.230\.20/);
  });

  it('re-applies and round-trips through export as no-ops', async () => {
    expect((await call<PlanDiffResult>('planDiff', { text: plan() })).diff?.changeCount).toBe(0);
    const exported = await call<PlanExportResult>('planExport', {});
    expect(exported.plan.networks).toContainEqual(expect.objectContaining({ name: 'tagged', port: 'eth2', vlan: 300 }));
    expect((await call<PlanDiffResult>('planDiff', { text: exported.yaml })).diff?.changeCount).toBe(0);
  });

  it('refuses macvlan on the parent that carries ipvlan, before touching the device', async () => {
    const text = stringify({
      version: 1,
      networks: [{ name: 'clash', driver: 'macvlan', port: 'eth1', ipv4: { subnet: '198.18.231.0/24' } }],
    });
    const r = await call<PlanCheckResult>('planCheck', { text });
    expect(r.findings.map((f) => `${f.code} ${f.path}`)).toContain('PARENT_DRIVER_CONFLICT networks[0].port');
  });

  it('removes the VLAN sub-interface with its network', async () => {
    await call<PlanApplyResult>('detach', { container: 'vlanclient', network: 'tagged' });
    await call<PlanApplyResult>('networkRemove', { name: 'tagged' });
    expect((await exec(client, 'test -e /sys/class/net/eth2.300 && echo there || echo gone')).stdout.trim()).toBe(
      'gone',
    );
  });
});
