// Plans against a namespace device (macvlan and bridge; its kernel has no ipvlan or 802.1Q): check,
// apply, re-apply as a no-op, export and apply back, refusals at check, and rollback of a failed step.
import Docker from 'dockerode';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  PlanApplyResult,
  PlanCheckResult,
  PlanDiffResult,
  PlanExportResult,
} from '../../electron/core/contract.js';
import { Service } from '../../electron/core/service.js';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { labSkipReason } from './support.js';

const skip = await labSkipReason();

describe.skipIf(skip)('plans on a namespace device', () => {
  let lab: Lab;
  let home: string;
  let service: Service;
  let docker: Docker;
  let field: { subnet: string; peer: string; device: string; prefix: string };

  async function call<T>(method: string, input: Record<string, unknown>): Promise<T> {
    const r = await service.invoke(method, { target: 'pl', ...input });
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.data as T;
  }
  const addr = (n: number): string => `${field.prefix}.${n}`;

  /** What a user would compare: networks with their subnets, containers with their networks and addresses, links. */
  async function snapshot(): Promise<unknown> {
    const nets = await docker.listNetworks();
    const containers = await docker.listContainers({ all: true });
    const links = await lab.exec('pl', "ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort");
    return {
      networks: nets
        .map((n) => `${n.Name} ${n.Driver} ${(n.IPAM?.Config ?? []).map((c) => c.Subnet).join(',')}`)
        .sort(),
      containers: containers
        .map(
          (c) =>
            `${c.Names[0] ?? ''} ${Object.entries(c.NetworkSettings.Networks)
              .map(([k, v]) => `${k}=${v.IPAddress}`)
              .sort()
              .join(' ')}`,
        )
        .sort(),
      links: links.stdout.trim().split('\n'),
    };
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pw-plan-'));
    lab = await startLab({ devices: [{ name: 'pl', fieldPorts: 2, fieldAddresses: true }] });
    const d = lab.device('pl');
    const peer = d.peers.find((p) => p.port === 'eth1');
    if (!peer?.deviceAddress) throw new Error('lab device has no field address');
    field = {
      subnet: peer.subnet,
      peer: peer.address,
      device: peer.deviceAddress,
      prefix: peer.subnet.split('.').slice(0, 3).join('.'),
    };
    service = new Service({ frontEnd: 'cli', storeFile: join(home, 'inventory.db'), knownHostsPaths: [] });
    const added = await service.invoke('deviceAdd', {
      device: { name: 'pl', host: d.host, port: d.port, user: 'root', auth: 'key', identityFile: lab.info.clientKey },
      connect: { acceptNewHostKey: true },
    });
    expect(added.ok).toBe(true);
    docker = new Docker({ socketPath: d.dockerSocket ?? '' });
    for (const name of ['plc', 'hmi', 'cell1', 'cell2']) {
      const c = await docker.createContainer({ name, Image: lab.info.image, Cmd: ['sleep', '3600'] });
      await c.start();
    }
  });
  afterAll(async () => {
    service?.dispose();
    if (lab) await stopLab(lab);
    await rm(home, { recursive: true, force: true });
  });

  const macvlanPlan = (): string =>
    stringify({
      version: 1,
      name: 'line3',
      networks: [
        {
          name: 'field-a',
          driver: 'macvlan',
          port: 'eth1',
          ipv4: { subnet: field.subnet, gateway: field.peer, range: `${field.prefix}.128/25`, exclude: [field.device] },
          hostAccess: { address: addr(3) },
        },
        { name: 'cells', driver: 'bridge', ipv4: { subnet: '198.19.200.0/24' } },
      ],
      attachments: [
        { container: 'plc', network: 'field-a', ipv4: addr(130), aliases: ['gw'] },
        { container: 'cell1', network: 'cells', ipv4: '198.19.200.11' },
        { container: 'cell2', network: 'cells', ipv4: '198.19.200.12' },
      ],
    });

  it('refuses at check what the device cannot do, with the kernel reason', async () => {
    const text = stringify({
      version: 1,
      networks: [
        { name: 'iv', driver: 'ipvlan', port: 'eth2', ipv4: { subnet: '198.18.230.0/24' } },
        { name: 'tagged', driver: 'macvlan', port: 'eth1', vlan: 300, ipv4: { subnet: '198.18.231.0/24' } },
        { name: 'lockout', driver: 'bridge', ipv4: { subnet: '198.18.0.0/24' } },
        { name: 'nope', driver: 'macvlan', port: 'eth7', ipv4: { subnet: '198.18.232.0/24' } },
      ],
    });
    const r = await call<PlanCheckResult>('planCheck', { text });
    const found = r.findings.map((f) => `${f.code} ${f.path}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'KERNEL_NO_IPVLAN networks[0].driver',
        'KERNEL_NO_VLAN networks[1].vlan',
        'MANAGEMENT_LOCKOUT networks[2].ipv4.subnet',
        'PORT_NOT_FOUND networks[3].port',
      ]),
    );
    expect(r.findings.find((f) => f.code === 'KERNEL_NO_IPVLAN')?.message).toContain('CONFIG_IPVLAN is not set');
    const applied = await service.invoke('planApply', { target: 'pl', text });
    expect(applied.ok).toBe(false);
    if (!applied.ok) expect(applied.error.code).toBe('PLAN_INVALID');
  });

  it('applies a macvlan and a bridge network; the field peer, the device and a neighbour reach the containers', async () => {
    const diff = await call<PlanDiffResult>('planDiff', { text: macvlanPlan(), source: 'line3.yaml' });
    expect(diff.errors).toBe(0);
    expect(diff.diff?.networks.map((n) => `${n.action} ${n.name}`)).toEqual(['create field-a', 'create cells']);
    const events: string[] = [];
    const off = service.on('progress', (p) => events.push(`${p.status} ${p.description}`));
    const r = await call<PlanApplyResult>('planApply', { text: macvlanPlan(), source: 'line3.yaml' });
    off();
    expect(r.ok).toBe(true);
    expect(events.filter((e) => e.startsWith('done')).length).toBe(r.steps.length);

    const fromPeer = await lab.peerExec('pl', 'eth1', `busybox ping -c 2 -W 2 ${addr(130)}`, { allowFail: true });
    expect(fromPeer.code, fromPeer.stdout + fromPeer.stderr).toBe(0);
    // The kernel keeps a macvlan parent from reaching its children; the host access shim is the way round.
    const fromDevice = await lab.exec('pl', `busybox ping -c 2 -W 2 ${addr(130)}`, { allowFail: true });
    expect(fromDevice.code, fromDevice.stdout + fromDevice.stderr).toBe(0);
    const neighbour = await docker
      .getContainer('cell1')
      .exec({ Cmd: ['ping', '-c', '2', '-W', '2', '198.19.200.12'], AttachStdout: true });
    const stream = await neighbour.start({});
    await new Promise((done) => stream.on('end', done).resume());
    expect((await neighbour.inspect()).ExitCode).toBe(0);

    const net = await docker.getNetwork('field-a').inspect();
    expect(net.Labels).toMatchObject({ 'dev.portwright.owner': 'portwright', 'dev.portwright.plan': 'line3' });
  });

  it('re-applying the same plan changes nothing', async () => {
    const diff = await call<PlanDiffResult>('planDiff', { text: macvlanPlan() });
    expect(diff.diff?.changeCount).toBe(0);
    const r = await call<PlanApplyResult>('planApply', { text: macvlanPlan() });
    expect(r).toMatchObject({ ok: true, steps: [] });
  });

  it('exports the device as a plan that applies as a no-op', async () => {
    const exported = await call<PlanExportResult>('planExport', {});
    expect(exported.plan.networks.map((n) => n.name)).toEqual(['cells', 'field-a']);
    expect(exported.plan.attachments).toContainEqual({
      container: 'plc',
      network: 'field-a',
      ipv4: addr(130),
      aliases: ['gw'],
    });
    const diff = await call<PlanDiffResult>('planDiff', { text: exported.yaml });
    expect(diff.errors).toBe(0);
    expect(diff.diff?.changeCount).toBe(0);
  });

  it('re-addresses a container when the plan moves it', async () => {
    const moved = macvlanPlan().replace(addr(130), addr(140));
    const diff = await call<PlanDiffResult>('planDiff', { text: moved });
    expect(
      diff.diff?.attachments.filter((a) => a.action !== 'unchanged').map((a) => `${a.action} ${a.container}`),
    ).toEqual(['readdress plc']);
    await call<PlanApplyResult>('planApply', { text: moved });
    const ping = await lab.peerExec('pl', 'eth1', `busybox ping -c 1 -W 2 ${addr(140)}`, { allowFail: true });
    expect(ping.code).toBe(0);
  });

  it('replaces a changed network, putting its containers back (also one the plan does not list)', async () => {
    await call<PlanApplyResult>('attach', { container: 'hmi', network: 'field-a', ipv4: addr(150) });
    const doc = parse(macvlanPlan().replace(addr(130), addr(140))) as { networks: { ipv4?: { exclude?: string[] } }[] };
    doc.networks[0]?.ipv4?.exclude?.push(addr(4));
    const changed = stringify(doc);
    const check = await call<PlanCheckResult>('planCheck', { text: changed });
    expect(check.findings.find((f) => f.code === 'NETWORK_CHANGE')?.message).toMatch(/IPv4 excluded .* → .*\.4/);
    const diff = await call<PlanDiffResult>('planDiff', { text: changed });
    expect(diff.diff?.networks.map((n) => `${n.action} ${n.name}`)).toEqual(['replace field-a', 'unchanged cells']);
    expect(
      diff.diff?.attachments.filter((a) => a.network === 'field-a').map((a) => `${a.action} ${a.container}`),
    ).toEqual(['connect plc', 'reconnect hmi']);
    const r = await call<PlanApplyResult>('planApply', { text: changed });
    expect(r.ok).toBe(true);
    for (const n of [140, 150]) {
      const ping = await lab.peerExec('pl', 'eth1', `busybox ping -c 1 -W 2 ${addr(n)}`, { allowFail: true });
      expect(ping.code, `${addr(n)} from the peer`).toBe(0);
    }
    // The host access shim came back with the network.
    const fromDevice = await lab.exec('pl', `busybox ping -c 1 -W 2 ${addr(140)}`, { allowFail: true });
    expect(fromDevice.code).toBe(0);
    expect(JSON.stringify((await docker.getNetwork('field-a').inspect()).IPAM?.Config)).toContain(addr(4));
    await call<PlanApplyResult>('detach', { container: 'hmi', network: 'field-a' });
    // Back to the plan the later tests expect.
    await call<PlanApplyResult>('planApply', { text: macvlanPlan().replace(addr(130), addr(140)) });
  });

  it('undoes every step when one fails midway, leaving the device exactly as before', async () => {
    const text = stringify({
      version: 1,
      name: 'doomed',
      networks: [
        {
          name: 'field-b',
          driver: 'macvlan',
          port: 'eth2',
          ipv4: { subnet: '198.18.240.0/24' },
          hostAccess: { address: '198.18.240.3' },
        },
      ],
      attachments: [
        { container: 'hmi', network: 'field-b', ipv4: '198.18.240.20' },
        { container: 'cell2', network: 'field-b', ipv4: '198.18.240.21' },
      ],
    });
    // cell2 vanishes after the checks passed, as if someone removed it on the device meanwhile. It is
    // stopped (quick to remove), and the management link is slowed so apply's steps cannot outrun that.
    await docker.getContainer('cell2').stop({ t: 0 });
    const before = await snapshot();
    await lab.setDelay('pl', 100);
    let removal: Promise<unknown> = Promise.resolve();
    const off = service.on('progress', (p) => {
      if (p.phase === 'apply' && p.step === 1 && p.status === 'running')
        removal = docker
          .getContainer('cell2')
          .remove({ force: true })
          .catch((e: unknown) => e);
    });
    const r = await call<PlanApplyResult>('planApply', { text }).finally(() => lab.setDelay('pl', 0));
    off();
    await removal;
    expect(r.ok).toBe(false);
    expect(r.rolledBack).toBe(true);
    expect(r.error?.message).toContain('connect cell2 to field-b');
    expect(r.steps.map((s) => s.status)).toEqual(['undone', 'undone', 'undone', 'failed']);
    const after = (await snapshot()) as { containers: string[] };
    const expected = before as { containers: string[]; networks: string[]; links: string[] };
    expect(after).toEqual({ ...expected, containers: expected.containers.filter((c) => !c.startsWith('/cell2 ')) });
  });

  it('attach, detach and network rm go through the same checks', async () => {
    const bad = await service.invoke('attach', {
      target: 'pl',
      container: 'hmi',
      network: 'field-a',
      ipv4: field.peer,
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('PLAN_INVALID');
    await call<PlanApplyResult>('attach', { container: 'hmi', network: 'field-a', ipv4: addr(150) });
    expect((await lab.peerExec('pl', 'eth1', `busybox ping -c 1 -W 2 ${addr(150)}`, { allowFail: true })).code).toBe(0);
    const inUse = await service.invoke('networkRemove', { target: 'pl', name: 'field-a' });
    expect(inUse.ok).toBe(false);
    if (!inUse.ok) expect(inUse.error.code).toBe('NETWORK_IN_USE');
    await call<PlanApplyResult>('detach', { container: 'hmi', network: 'field-a' });
    await call<PlanApplyResult>('detach', { container: 'plc', network: 'field-a' });
    await call<PlanApplyResult>('networkRemove', { name: 'field-a' });
    const links = await lab.exec('pl', 'ip -o link show');
    expect(links.stdout).not.toContain('pw-field-a');
    await expect(docker.getNetwork('field-a').inspect()).rejects.toThrow();
  });

  const confirmPlan = (): string =>
    stringify({
      version: 1,
      name: 'confirmed',
      networks: [{ name: 'field-c', driver: 'macvlan', port: 'eth2', ipv4: { subnet: '198.18.241.0/24' } }],
      attachments: [{ container: 'hmi', network: 'field-c', ipv4: '198.18.241.20' }],
    });

  it('keeps a commit-confirmed change once a fresh connection confirms it', async () => {
    const r = await call<PlanApplyResult>('planApply', { text: confirmPlan(), confirmWithinSeconds: 30 });
    expect(r.ok).toBe(true);
    expect(r.confirm).toMatchObject({ confirmed: true, seconds: 30 });
    // The watchdog saw the confirmation and is gone, leaving the change in place.
    const dir = `/tmp/portwright-confirm-${r.confirm?.token ?? ''}`;
    await expect
      .poll(async () => (await lab.exec('pl', `test -e ${dir} && echo there || echo gone`)).stdout.trim(), {
        timeout: 5000,
      })
      .toBe('gone');
    expect((await docker.getNetwork('field-c').inspect()).Name).toBe('field-c');
    await call<PlanApplyResult>('detach', { container: 'hmi', network: 'field-c' });
    await call<PlanApplyResult>('networkRemove', { name: 'field-c' });
  });

  it('reverts by itself when the link is cut during a commit-confirmed apply', async () => {
    const before = await snapshot();
    const window = 15;
    const off = service.on('progress', (p) => {
      if (p.phase === 'apply' && p.step === 1 && p.status === 'done') void lab.cut('pl');
    });
    const started = Date.now();
    const r = await service.invoke('planApply', { target: 'pl', text: confirmPlan(), confirmWithinSeconds: window });
    off();
    // Whatever the tool saw (a dead link), the device must come back as it was within the window.
    expect(r.ok && (r.data as PlanApplyResult).ok).toBe(false);
    await expect.poll(() => snapshot(), { timeout: (window + 10) * 1000, interval: 1000 }).toEqual(before);
    expect(Date.now() - started).toBeLessThan((window + 10) * 1000);
    await lab.restore('pl');
  }, 90_000);
});
