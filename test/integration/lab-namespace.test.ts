// Proof that the namespace lab is real: SSH with a checked host key, Docker over that one
// connection, the device's own view of its ports, and field traffic between peer and container.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { connect, containerOnFieldNetwork, dockerOver, exec, labSkipReason, type SshClient } from './support.js';

const skip = await labSkipReason();

describe.skipIf(skip)('namespace lab device (OpenSSH)', () => {
  let lab: Lab;
  let client: SshClient;

  beforeAll(async () => {
    lab = await startLab({ devices: [{ name: 'plc1', fieldPorts: 2 }] });
    client = (await connect(lab, lab.device('plc1'))).client;
  });
  afterAll(async () => {
    client?.end();
    if (lab) await stopLab(lab);
  });

  it('accepts only the host key the lab knows, before any credential is sent', async () => {
    const dev = lab.device('plc1');
    const log = `${lab.info.dir}/plc1/sshd.log`;
    const keyLines = async (): Promise<number> =>
      Number((await lab.exec('plc1', `grep -c publickey ${log} || true`)).stdout.trim());
    const before = await keyLines();
    const wrong = { ...dev, hostKey: { ...dev.hostKey, fingerprint: 'SHA256:not-this-one' } };
    await expect(connect(lab, wrong)).rejects.toThrow(/verification failed/i);
    // sshd saw the connection close before authentication: no key was ever offered.
    await new Promise((r) => setTimeout(r, 200));
    expect(await keyLines()).toBe(before);
    expect((await lab.exec('plc1', `cat ${log}`)).stdout).toMatch(
      /(Disconnected from|Connection (closed|reset) by) \S+ port \d+ \[preauth\]\s*$/,
    );
  });

  it('lists the device’s Docker networks over a stream-local channel of the one SSH connection', async () => {
    const docker = dockerOver(client);
    const networks = await docker.listNetworks();
    expect(networks.map((n) => n.Name).sort()).toEqual(['bridge', 'host', 'none']);
    const bridge = networks.find((n) => n.Name === 'bridge');
    expect(bridge?.IPAM?.Config?.[0]?.Subnet).toBe('198.19.0.0/24');
    // Several calls, still one SSH login on the device.
    await Promise.all([docker.version(), docker.listContainers(), docker.info()]);
    const logins = await lab.exec('plc1', `grep -c 'Accepted publickey' ${lab.info.dir}/plc1/sshd.log`);
    expect(Number(logins.stdout.trim())).toBe(1);
  });

  it('shows the device its own ports in /sys/class/net, not this computer’s', async () => {
    const { stdout } = await exec(client, 'ls /sys/class/net');
    expect(stdout.split(/\s+/).filter(Boolean).sort()).toEqual(['docker0', 'eth0', 'eth1', 'eth2', 'lo']);
    const hostname = await exec(client, 'hostname');
    expect(hostname.stdout.trim()).toBe('plc1');
  });

  it('carries field traffic: peer pings a macvlan container at a static IP, and back', async () => {
    const peer = lab.peer('plc1', 'eth1');
    await containerOnFieldNetwork(
      dockerOver(client),
      lab.info.image,
      { name: 'field-a', driver: 'macvlan', parent: 'eth1', subnet: peer.subnet },
      { name: 'plc-gateway', ipv4: '198.18.11.20' },
    );

    const fromPeer = await lab.peerExec('plc1', 'eth1', 'busybox ping -c 2 -W 2 198.18.11.20', { allowFail: true });
    expect(fromPeer.stdout).toContain('2 packets received');

    const fromContainer = await exec(client, `docker exec plc-gateway ping -c 2 -W 2 ${peer.address}`);
    expect(fromContainer.stdout).toContain('2 packets received');

    // And nothing answers on the other field port: the networks are really separate.
    const otherPeer = await lab.peerExec('plc1', 'eth2', 'busybox ping -c 1 -W 1 198.18.11.20', { allowFail: true });
    expect(otherPeer.code).not.toBe(0);
  });

  it('stands for an embedded kernel without ipvlan and 802.1Q: Docker says "not supported"', async () => {
    const ipvlan = await exec(
      client,
      'docker network create -d ipvlan -o parent=eth2 --subnet 198.18.12.0/24 no-ipvlan >/dev/null && ' +
        `docker run --rm --network no-ipvlan ${lab.info.image} true`,
    );
    expect(ipvlan.code).not.toBe(0);
    expect(ipvlan.stderr).toMatch(/operation not supported/);
    await exec(client, 'docker network rm no-ipvlan');

    const vlan = await exec(client, 'docker network create -d macvlan -o parent=eth2.300 no-vlan');
    expect(vlan.code).not.toBe(0);
    expect(vlan.stderr).toMatch(/operation not supported/);
  });

  it('slows the management link to a set round-trip time, cuts it, and restores it', async () => {
    const time = async (): Promise<number> => {
      const t0 = performance.now();
      await exec(client, 'true');
      return performance.now() - t0;
    };
    const base = await time();
    await lab.setDelay('plc1', 200);
    const slow = await time();
    // Whole packets are delayed, the TCP handshake too: a new connection's first byte (sshd's
    // banner) comes after the handshake's round trip and the banner's own, as on a real link.
    const dev = lab.device('plc1');
    const t0 = performance.now();
    const banner = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(dev.port, dev.host);
      sock.once('data', (d: Buffer) => {
        sock.destroy();
        resolve(d.toString());
      });
      sock.once('error', reject);
    });
    const firstByte = performance.now() - t0;
    await lab.setDelay('plc1', 0);
    expect(banner).toMatch(/^SSH-2\.0-/);
    expect(firstByte).toBeGreaterThanOrEqual(1.5 * 200);
    // An exec is several round trips (open, request, data, close): at least one full RTT more.
    expect(slow - base).toBeGreaterThanOrEqual(200);

    await lab.cut('plc1');
    const held = exec(client, 'true').then(
      () => 'answered',
      () => 'failed',
    );
    const cut = await Promise.race([held, new Promise((r) => setTimeout(() => r('silent'), 1500))]);
    expect(cut).toBe('silent');
    // A new connection cannot get through either.
    await expect(connect(lab, lab.device('plc1'), { readyTimeout: 1500 })).rejects.toThrow(/timed out/i);
    await lab.restore('plc1');
    const fresh = (await connect(lab, lab.device('plc1'))).client;
    try {
      expect((await exec(fresh, 'echo back')).stdout.trim()).toBe('back');
    } finally {
      fresh.end();
    }
  });
});

describe.skipIf(skip)('namespace lab device (Dropbear)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ devices: [{ name: 'old1', ssh: 'dropbear', fieldPorts: 1 }] });
  });
  afterAll(async () => {
    if (lab) await stopLab(lab);
  });

  it('accepts the lab key and runs a command', async () => {
    const { client, seenFingerprints } = await connect(lab, lab.device('old1'));
    try {
      expect(seenFingerprints).toEqual([lab.device('old1').hostKey.fingerprint]);
      const r = await exec(client, 'hostname; docker version --format "{{.Server.APIVersion}}"');
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe('old1');
      expect(r.stdout.split('\n')[1]).toMatch(/^1\.\d+$/);
    } finally {
      client.end();
    }
  });

  it('refuses stream-local forwarding, as old Dropbear does (what the fallbacks are for)', async () => {
    const { client } = await connect(lab, lab.device('old1'), { strictVendor: false });
    try {
      const opened = await new Promise<string>((resolve) => {
        client.openssh_forwardOutStreamLocal('/var/run/docker.sock', (err) => resolve(err ? 'refused' : 'opened'));
      });
      expect(opened).toBe('refused');
    } finally {
      client.end();
    }
  });
});
