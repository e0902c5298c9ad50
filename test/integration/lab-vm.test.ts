// Proof that the VM lab device has a real kernel of its own: ipvlan and 802.1Q work there, unlike
// on this machine's kernel, and Docker's networks reach the field peers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { connect, containerOnFieldNetwork, dockerOver, exec, labSkipReason, type SshClient } from './support.js';

const skip = await labSkipReason(true);

describe.skipIf(skip)('VM lab device (Debian kernel under QEMU)', () => {
  let lab: Lab;
  let client: SshClient;

  beforeAll(async () => {
    lab = await startLab({ devices: [{ name: 'vm1', kind: 'vm' }], log: (m) => console.log(m) });
    console.log(`VM device vm1 ready in ${lab.device('vm1').readyMs} ms`);
    client = (await connect(lab, lab.device('vm1'))).client;
  });
  afterAll(async () => {
    client?.end();
    if (lab) await stopLab(lab);
  });

  it('runs its own kernel, with the pinned host key, and Docker over the SSH connection', async () => {
    const kernel = await exec(client, 'uname -r; hostname');
    expect(kernel.stdout.split('\n')[0]).toMatch(/^6\.1\.0-.*-amd64$/);
    const networks = await dockerOver(client).listNetworks();
    expect(networks.map((n) => n.Name)).toEqual(expect.arrayContaining(['bridge', 'host', 'none']));
    const ports = await exec(client, 'ls /sys/class/net');
    expect(ports.stdout.split(/\s+/)).toEqual(expect.arrayContaining(['eth0', 'eth1', 'eth2']));
  });

  it('carries ipvlan L2 on eth1: the field peer pings a container at a static IP', async () => {
    const peer = lab.peer('vm1', 'eth1');
    const address = peer.address.replace(/\.2$/, '.20');
    await containerOnFieldNetwork(
      dockerOver(client),
      lab.info.image,
      { name: 'field-ipvlan', driver: 'ipvlan', parent: 'eth1', subnet: peer.subnet, options: { ipvlan_mode: 'l2' } },
      { name: 'cam-gw', ipv4: address },
    );
    const ping = await lab.peerExec('vm1', 'eth1', `busybox ping -c 3 -W 3 ${address}`, { allowFail: true });
    expect(ping.stdout).toMatch(/[1-3] packets received/);
  });

  it('refuses macvlan on a parent that already carries ipvlan ("device or resource busy")', async () => {
    const r = await exec(
      client,
      'docker network create -d macvlan -o parent=eth1 --subnet 198.18.99.0/24 clash >/dev/null && ' +
        `docker run --rm --network clash ${lab.info.image} true`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/device or resource busy/i);
    await exec(client, 'docker network rm clash');
  });

  it('tags frames on a VLAN parent eth2.300 that Docker creates: the field side sees VLAN 300', async () => {
    await containerOnFieldNetwork(
      dockerOver(client),
      lab.info.image,
      { name: 'field-vlan300', driver: 'macvlan', parent: 'eth2.300', subnet: '198.18.230.0/24' },
      { name: 'vlan-client', ipv4: '198.18.230.20' },
    );
    const link = await exec(client, 'cat /proc/net/vlan/eth2.300');
    expect(link.stdout).toMatch(/VID: 300/);

    // The peer's kernel (this machine's) has no 802.1Q, so it cannot answer; capturing the tagged
    // ARP requests on its side of the wire is the proof.
    const capture = lab.peerExec(
      'vm1',
      'eth2',
      "timeout 30 tcpdump -l -e -n -c 2 -i eth0 'vlan 300 and arp' 2>/dev/null",
      {
        allowFail: true,
        timeoutMs: 40_000,
      },
    );
    await new Promise((r) => setTimeout(r, 1500));
    await exec(client, 'docker exec vlan-client ping -c 4 -W 1 198.18.230.2');
    const frames = (await capture).stdout;
    expect(frames).toMatch(
      /ethertype 802\.1Q .*vlan 300, .*ARP.*Request who-has 198\.18\.230\.2 tell 198\.18\.230\.20/,
    );
  });
});
