// What integration tests share: whether the lab can run here, and SSH/Docker clients for lab devices.
import Docker from 'dockerode';
import ssh2 from 'ssh2';
import { readFileSync } from 'node:fs';
import { SshChannelAgent } from '../../electron/core/docker/ssh-agent.js';
import { labPrerequisites, type DeviceInfo, type Lab } from '../lab/index.js';
import { fingerprintOf } from '../lab/keys.js';

const { Client } = ssh2;
export type SshClient = InstanceType<typeof Client>;

export const IN_CI = process.env.CI === 'true';

/**
 * Why the lab cannot run here, or undefined when it can. Under CI a missing part is a failure,
 * never a skip: this throws instead.
 */
export async function labSkipReason(withVm = false): Promise<string | undefined> {
  const missing = await labPrerequisites(withVm);
  if (missing.length === 0) return undefined;
  const reason = `lab needs ${missing.join(', ')} (run \`npm test\` as root: it installs them)`;
  if (IN_CI) throw new Error(`CI=true and ${reason}`);
  return reason;
}

export interface Connected {
  client: SshClient;
  /** Host key fingerprints the client was shown, in order. */
  seenFingerprints: string[];
}

/** One ssh2 connection to a lab device, accepting only the host key the lab says it has. */
export function connect(lab: Lab, device: DeviceInfo, extra: Partial<ssh2.ConnectConfig> = {}): Promise<Connected> {
  const seenFingerprints: string[] = [];
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on('ready', () => resolve({ client, seenFingerprints }))
      .on('error', reject)
      .connect({
        host: device.host,
        port: device.port,
        username: device.user,
        privateKey: readFileSync(lab.info.clientKey),
        readyTimeout: 20_000,
        hostVerifier: (key: Buffer) => {
          const fp = fingerprintOf(key.toString('base64'));
          seenFingerprints.push(fp);
          return fp === device.hostKey.fingerprint;
        },
        ...extra,
      });
  });
}

export function exec(client: SshClient, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('close', (code: number | null) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  });
}

/** dockerode whose every request is a stream-local channel of `client` to the device's socket. */
export function dockerOver(client: SshClient, socketPath = '/var/run/docker.sock'): Docker {
  const agent = new SshChannelAgent(
    () =>
      new Promise((resolve, reject) => {
        client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => (err ? reject(err) : resolve(stream)));
      }),
  );
  return new Docker({ protocol: 'http', host: 'docker', port: 80, agent } as Docker.DockerOptions);
}

export interface FieldNetwork {
  name: string;
  driver: 'macvlan' | 'ipvlan';
  parent: string;
  subnet: string;
  options?: Record<string, string>;
}

/** Creates a macvlan/ipvlan network and starts a sleeping container on it at a static address. */
export async function containerOnFieldNetwork(
  docker: Docker,
  image: string,
  net: FieldNetwork,
  container: { name: string; ipv4: string },
): Promise<void> {
  await docker.createNetwork({
    Name: net.name,
    Driver: net.driver,
    Options: { parent: net.parent, ...net.options },
    IPAM: { Config: [{ Subnet: net.subnet }] },
  });
  const created = await docker.createContainer({
    name: container.name,
    Image: image,
    Cmd: ['sleep', '3600'],
    HostConfig: { NetworkMode: net.name },
    NetworkingConfig: { EndpointsConfig: { [net.name]: { IPAMConfig: { IPv4Address: container.ipv4 } } } },
  });
  await created.start();
}
