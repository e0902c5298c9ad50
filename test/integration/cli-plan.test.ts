// The plan commands as a user runs them (a real `portwright` process, real exit codes) against a lab
// device: check offline and live, diff, apply with and without --yes, export, prune, attach/detach,
// network rm, and the audit log of it all.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../electron/core/store/schemas.js';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { labSkipReason } from './support.js';

const skip = await labSkipReason();
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe.skipIf(skip)('portwright plan commands against a lab device', () => {
  let lab: Lab;
  let home: string;
  let prefix: string;
  let subnet: string;

  function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/portwright.mjs'), ...args], {
        env: { ...process.env, PORTWRIGHT_HOME: join(home, 'portwright'), HOME: home, SSH_AUTH_SOCK: '' },
        cwd: home,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdin.end();
      child.on('close', (code) => done({ code: code ?? -1, out, err }));
    });
  }

  async function planFile(name: string, plan: unknown): Promise<string> {
    const file = join(home, name);
    await writeFile(file, typeof plan === 'string' ? plan : stringify(plan));
    return file;
  }

  const fieldPlan = (extra: Record<string, unknown> = {}): unknown => ({
    version: 1,
    networks: [
      {
        name: 'field-a',
        driver: 'macvlan',
        port: 'eth1',
        ipv4: { subnet, gateway: `${prefix}.2`, range: `${prefix}.128/25`, exclude: [`${prefix}.1`] },
      },
      { name: 'cells', driver: 'bridge', ipv4: { subnet: '198.19.201.0/24' } },
    ],
    attachments: [{ container: 'plc', network: 'field-a', ipv4: `${prefix}.130` }],
    ...extra,
  });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pw-cliplan-'));
    lab = await startLab({ devices: [{ name: 'cp', fieldAddresses: true }] });
    const d = lab.device('cp');
    const peer = lab.peer('cp', 'eth1');
    subnet = peer.subnet;
    prefix = subnet.split('.').slice(0, 3).join('.');
    await lab.exec('cp', `for c in plc hmi; do docker run -d --name $c ${lab.info.image} sleep 3600 >/dev/null; done`);
    const added = await cli(
      'device',
      'add',
      'cp',
      '--host',
      d.host,
      '--port',
      String(d.port),
      '--identity',
      lab.info.clientKey,
      '--accept-new-host-key',
    );
    expect(added.code, added.err).toBe(0);
  });
  afterAll(async () => {
    if (lab) await stopLab(lab);
    await rm(home, { recursive: true, force: true });
  });

  it('checks a plan offline: every problem on its own line with file:line:column, exit 1', async () => {
    const file = await planFile(
      'bad.yaml',
      'version: 1\nnetworks:\n  - name: x\n    driver: macvlan\n    port: eth1\n    vlan: 5000\n    ipv4: { subnet: 198.18.9.0/24, gateway: 198.18.8.1 }\n',
    );
    const r = await cli('plan', 'check', file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${file}:6:11 error VLAN_RANGE at networks[0].vlan: VLAN id 5000 is out of range. Hint:`);
    expect(r.out).toMatch(/bad\.yaml:7:\d+ error GATEWAY_OUTSIDE_SUBNET at networks\[0\]\.ipv4\.gateway/);
    expect(r.out).toContain('2 error(s), 0 warning(s)');
    const json = JSON.parse((await cli('plan', 'check', file, '--json')).out) as { errors: number };
    expect(json.errors).toBe(2);
  });

  it("checks against the device: the kernel's missing ipvlan is an error at the network", async () => {
    const file = await planFile('ipvlan.yaml', {
      version: 1,
      networks: [{ name: 'iv', driver: 'ipvlan', port: 'eth1', ipv4: { subnet: '198.18.250.0/24' } }],
    });
    const offline = await cli('plan', 'check', file);
    expect(offline.code).toBe(0);
    const live = await cli('plan', 'check', file, '--device', 'cp');
    expect(live.code).toBe(1);
    expect(live.out).toMatch(/error KERNEL_NO_IPVLAN at networks\[0\]\.driver: .*CONFIG_IPVLAN is not set/);
  });

  it('asks before applying, and without a terminal needs --yes; then applies, and again is a no-op', async () => {
    const file = await planFile('field.yaml', fieldPlan());
    const diff = await cli('plan', 'diff', file, '--device', 'cp');
    expect(diff.code).toBe(0);
    expect(diff.out).toMatch(/^\+ network field-a \(macvlan on eth1 .*\): create$/m);
    expect(diff.out).toMatch(/^\+ plc on field-a at .*\.130: connect/m);

    const refused = await cli('plan', 'apply', file, '--device', 'cp');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error CONFIRMATION_NEEDED: .*Hint: Review with plan diff, then pass --yes\./);
    expect((await cli('networks', 'cp')).out).not.toContain('field-a');

    const applied = await cli('plan', 'apply', file, '--device', 'cp', '--yes');
    expect(applied.code, applied.err).toBe(0);
    expect(applied.out).toContain('[done] create macvlan network field-a on eth1');
    expect(applied.err).toMatch(/step 1\/\d+ done: /);
    const ping = await lab.peerExec('cp', 'eth1', `busybox ping -c 1 -W 2 ${prefix}.130`, { allowFail: true });
    expect(ping.code).toBe(0);

    const again = await cli('plan', 'apply', file, '--device', 'cp', '--yes');
    expect(again.code).toBe(0);
    expect(again.out).toBe('No changes: the device already matches the plan.\n');
  });

  it('exports the device to a file that diffs as no change', async () => {
    const out = join(home, 'exported.yaml');
    const r = await cli('plan', 'export', '--device', 'cp', '-o', out);
    expect(r.code).toBe(0);
    const text = await readFile(out, 'utf8');
    expect(text).toContain('name: field-a');
    const diff = await cli('plan', 'diff', out, '--device', 'cp');
    expect(diff.out).toContain('No changes: the device already matches the plan.');
  });

  it('prunes only networks Portwright owns', async () => {
    await lab.exec('cp', 'docker network create --subnet 198.19.202.0/24 handmade >/dev/null');
    const file = await planFile('pruned.yaml', {
      version: 1,
      prune: true,
      networks: (fieldPlan() as { networks: unknown[] }).networks.slice(0, 1),
      attachments: (fieldPlan() as { attachments: unknown[] }).attachments,
    });
    const diff = await cli('plan', 'diff', file, '--device', 'cp');
    expect(diff.out).toMatch(/^- network cells .*: remove$/m);
    expect(diff.out).not.toContain('handmade');
    expect((await cli('plan', 'apply', file, '--device', 'cp', '--yes')).code).toBe(0);
    const nets = (await cli('networks', 'cp')).out;
    expect(nets).not.toMatch(/^cells\s/m);
    expect(nets).toMatch(/^handmade\s/m);
  });

  it('attaches and detaches one container, and will not remove a network in use', async () => {
    const bad = await cli('attach', 'hmi', 'field-a', '--ipv4', `${prefix}.2`, '--device', 'cp');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error PLAN_INVALID at ipv4: .*ADDRESS_IS_GATEWAY/);
    const ok = await cli('attach', 'hmi', 'field-a', '--ipv4', `${prefix}.140`, '--device', 'cp');
    expect(ok.code, ok.err).toBe(0);
    expect((await lab.peerExec('cp', 'eth1', `busybox ping -c 1 -W 2 ${prefix}.140`, { allowFail: true })).code).toBe(
      0,
    );
    const inUse = await cli('network', 'rm', 'field-a', '--device', 'cp');
    expect(inUse.code).toBe(1);
    expect(inUse.err).toMatch(/^error NETWORK_IN_USE: field-a still has 2 container\(s\)/);
    expect((await cli('detach', 'hmi', 'field-a', '--device', 'cp')).code).toBe(0);
    expect((await cli('detach', 'plc', 'field-a', '--device', 'cp')).code).toBe(0);
    expect((await cli('network', 'rm', 'field-a', '--device', 'cp')).out).toBe('removed field-a\n');
  });

  it('keeps every change in the audit log, with its result', async () => {
    const r = await cli('audit', 'cp', '--json');
    const entries = JSON.parse(r.out) as AuditEntry[];
    const actions = entries.map((e) => `${e.action} ${e.result}`);
    expect(actions).toEqual(
      expect.arrayContaining(['plan.apply ok', 'container.attach ok', 'container.detach ok', 'network.remove ok']),
    );
    expect(actions.filter((a) => a === 'plan.apply ok')).toHaveLength(2);
    const table = await cli('audit', 'cp');
    expect(table.out).toMatch(/network\.remove\s+ok\s+field-a/);
  });
});
