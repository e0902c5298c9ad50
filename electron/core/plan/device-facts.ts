// Gathers what the checker needs from a live device, in parallel over its one connection: ports,
// Docker state, the kernel's network features and where this SSH session comes from.
import type Docker from 'dockerode';
import type { Connection } from '../devices/connections.js';
import { translateDockerError } from '../docker/errors.js';
import { fetchDockerState } from '../docker/inventory.js';
import type { DockerState } from '../docker/types.js';
import { attachNetworks, discoverPorts } from '../ports/device-ports.js';
import type { DeviceFacts, KernelFeature, KernelSupport, Support } from './facts.js';
import { runOn } from '../devices/run.js';
import { PREDEFINED_NETWORKS } from './schema.js';

/**
 * Kernel features from whatever the device keeps: /proc/config.gz, /boot/config-<release>, or the
 * module lists; POSIX sh and busybox only. Sections start with `@@name`.
 */
export const KERNEL_SCRIPT = `PATH="$PATH:/sbin:/usr/sbin:/bin:/usr/bin"
r=$(uname -r)
echo "@@release"; echo "$r"
pat='^(# )?CONFIG_(MACVLAN|IPVLAN|VLAN_8021Q|MODULES)[= ]'
echo "@@config"
if [ -r /proc/config.gz ]; then
  echo "source /proc/config.gz"
  { zcat /proc/config.gz 2>/dev/null || gzip -dc /proc/config.gz 2>/dev/null; } | grep -E "$pat"
elif [ -r "/boot/config-$r" ]; then
  echo "source /boot/config-$r"
  grep -E "$pat" "/boot/config-$r"
fi
echo "@@builtin"
[ -r "/lib/modules/$r/modules.builtin" ] && echo "source" && grep -E '/(macvlan|ipvlan|8021q)[.]ko' "/lib/modules/$r/modules.builtin"
echo "@@modules"
[ -r "/lib/modules/$r/modules.dep" ] && echo "source" && grep -oE '/(macvlan|ipvlan|8021q)[.]ko[^:]*:' "/lib/modules/$r/modules.dep"
echo "@@loaded"
for m in macvlan ipvlan 8021q; do [ -d "/sys/module/$m" ] && echo "$m"; done
echo "@@ssh"
echo "$SSH_CONNECTION"
echo "@@end"
`;

const MODULE: Record<KernelFeature, string> = { macvlan: 'macvlan', ipvlan: 'ipvlan', vlan: '8021q' };
const OPTION: Record<KernelFeature, string> = { macvlan: 'MACVLAN', ipvlan: 'IPVLAN', vlan: 'VLAN_8021Q' };

function sections(output: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const m = /^@@(\w+)$/.exec(line.trim());
    if (m?.[1]) {
      current = [];
      out.set(m[1], current);
    } else if (current && line.trim()) current.push(line.trim());
  }
  return out;
}

export function parseKernel(output: string): { kernel: KernelSupport; sshClient?: string } {
  const s = sections(output);
  const release = s.get('release')?.[0] ?? 'unknown';
  const config = s.get('config') ?? [];
  const configSource = config.find((l) => l.startsWith('source '))?.slice('source '.length);
  const builtin = s.get('builtin') ?? [];
  const modules = s.get('modules') ?? [];
  const loaded = new Set(s.get('loaded') ?? []);
  const optionValue = (name: string): string | undefined => {
    for (const l of config) {
      if (l === `# CONFIG_${name} is not set`) return 'n';
      const m = new RegExp(`^CONFIG_${name}=(\\w+)$`).exec(l);
      if (m) return m[1];
    }
    return undefined;
  };
  const modulesOn = optionValue('MODULES') !== 'n';
  const features = {} as Record<KernelFeature, Support>;
  const sources = new Set<string>();
  for (const f of ['macvlan', 'ipvlan', 'vlan'] as const) {
    const mod = MODULE[f];
    const inList = (lines: string[]): boolean => lines.some((l) => l.includes(`/${mod}.ko`));
    const v = optionValue(OPTION[f]);
    let support: Support = 'unknown';
    if (v === 'y') support = 'yes';
    else if (v === 'm') support = modulesOn ? 'module' : 'no';
    else if (v === 'n') support = 'no';
    if (configSource && v !== undefined) sources.add(configSource);
    if (support === 'unknown' || support === 'no') {
      if (loaded.has(mod)) support = 'yes';
      else if (inList(builtin)) support = 'yes';
      else if (inList(modules) && modulesOn) support = 'module';
      else if (support === 'unknown' && (builtin[0] === 'source' || modules[0] === 'source')) support = 'no';
      if (support !== 'unknown' && v === undefined) sources.add(`/lib/modules/${release}`);
    }
    features[f] = support;
  }
  const ssh = s
    .get('ssh')?.[0]
    ?.split(/\s+/)[0]
    ?.replace(/^::ffff:/, '')
    .replace(/%.*$/, '');
  return {
    kernel: { release, features, source: [...sources].join(', ') || 'nothing the device shows' },
    ...(ssh ? { sshClient: ssh } : {}),
  };
}

export async function readKernel(conn: Connection): Promise<{ kernel: KernelSupport; sshClient?: string }> {
  return parseKernel((await runOn(conn, KERNEL_SCRIPT)).stdout);
}

/**
 * The container list leaves out network aliases; inspect the containers on user-defined networks
 * (in parallel, over the same connection) so a plan's aliases can be compared.
 */
export async function withAliases(docker: Docker, state: DockerState): Promise<DockerState> {
  const containers = await Promise.all(
    state.containers.map(async (c) => {
      if (!c.networks.some((n) => !PREDEFINED_NETWORKS.includes(n.network))) return c;
      const info = await docker.getContainer(c.id).inspect();
      const nets = info.NetworkSettings.Networks;
      return {
        ...c,
        networks: c.networks.map((n) => {
          const aliases = (nets[n.network]?.Aliases as string[] | null | undefined) ?? n.aliases;
          return { ...n, aliases };
        }),
      };
    }),
  );
  return { ...state, containers };
}

/** Ports, Docker state and kernel, fetched at the same time over the device's one connection. */
export async function gatherDeviceFacts(conn: Connection): Promise<DeviceFacts> {
  const [ports, docker, k] = await Promise.all([
    discoverPorts(conn),
    fetchDockerState(conn.docker)
      .then((state) => withAliases(conn.docker, state))
      .catch((e: unknown) => {
        throw translateDockerError(e);
      }),
    readKernel(conn),
  ]);
  return {
    ports: attachNetworks(ports, docker.networks),
    docker,
    kernel: k.kernel,
    ...(k.sshClient ? { sshClient: k.sshClient } : {}),
  };
}
