// A device's ports as the user sees them: the discovery script run over the device's SSH session (or
// locally for `local`), with the Docker networks that use each port as their parent.
import type { Connection } from '../devices/connections.js';
import { runScript } from '../devices/run.js';
import type { SshSession } from '../ssh/session.js';
import { translateDockerError } from '../docker/errors.js';
import { fetchNetworks } from '../docker/inventory.js';
import type { NetworkInfo } from '../docker/types.js';
import { PortwrightError } from '../errors.js';
import { parsePorts, PORTS_SCRIPT } from './discover.js';
import type { Port } from './types.js';

/** Which Docker networks hang on each port: `parent` names it directly, or a VLAN sub-interface of it. */
export function attachNetworks(ports: Port[], networks: NetworkInfo[]): Port[] {
  return ports.map((p) => ({
    ...p,
    dockerNetworks: networks
      .filter((n) => {
        const parent = n.options.parent;
        return parent !== undefined && (parent === p.name || parent.split('.')[0] === p.name);
      })
      .map((n) => n.name)
      .sort(),
  }));
}

/** Runs the discovery script on the device (or here, for `local`) and parses what it prints. */
export async function readPorts(session: SshSession | undefined): Promise<Port[]> {
  const r = await runScript(session, PORTS_SCRIPT, { timeoutMs: 20_000 });
  if (!r.stdout.includes('@@end')) {
    throw new PortwrightError({
      code: 'PORTS_UNREADABLE',
      message: "could not read the device's network interfaces",
      hint: 'The device needs a POSIX shell and /sys; see the detail for what its shell said.',
      detail: r.stderr.trim().slice(0, 500),
    });
  }
  return parsePorts(r.stdout);
}

export async function discoverPorts(conn: Connection): Promise<Port[]> {
  // The script and the Docker calls travel on separate channels: wait for both at once.
  const [ports, networks] = await Promise.all([
    readPorts(conn.session),
    fetchNetworks(conn.docker).catch((e: unknown) => {
      throw translateDockerError(e);
    }),
  ]);
  return attachNetworks(ports, networks);
}
