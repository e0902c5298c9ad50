// Commit-confirmed, as on network gear: before a change, a small watchdog is started on the device.
// Unless it is confirmed (over a fresh connection) within the window, it replays the undo of every
// step by itself, so a cut cable or a closed laptop leaves the device as it was. POSIX sh; it speaks
// to the Docker socket with the docker CLI, curl or socat, whichever the device has.
import type { Endpoint } from './types.js';
import { connectBody, type UndoOp } from './apply.js';

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** JSON with every non-ASCII character escaped, so `${#body}` counts bytes for Content-Length. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

interface CreateBody {
  Name: string;
  Driver: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  IPAM?: {
    Driver?: string;
    Config?: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }[];
  };
  Labels?: Record<string, string>;
}

/** `docker network create` flags for a create body (for devices whose only socket client is the CLI). */
export function createCli(b: CreateBody): string {
  const args = ['network', 'create', '-d', b.Driver];
  for (const c of b.IPAM?.Config ?? []) {
    if (c.Subnet) args.push('--subnet', c.Subnet);
    if (c.Gateway) args.push('--gateway', c.Gateway);
    if (c.IPRange) args.push('--ip-range', c.IPRange);
    for (const [k, v] of Object.entries(c.AuxiliaryAddresses ?? {})) args.push('--aux-address', `${k}=${v}`);
  }
  for (const [k, v] of Object.entries(b.Options ?? {})) args.push('-o', `${k}=${v}`);
  for (const [k, v] of Object.entries(b.Labels ?? {})) args.push('--label', `${k}=${v}`);
  if (b.Internal) args.push('--internal');
  if (b.Attachable) args.push('--attachable');
  if (b.EnableIPv6) args.push('--ipv6');
  if (b.IPAM?.Driver && b.IPAM.Driver !== 'default') args.push('--ipam-driver', b.IPAM.Driver);
  args.push(b.Name);
  return `docker ${args.map(q).join(' ')}`;
}

function connectCli(network: string, container: string, e: Endpoint | undefined): string {
  const args = ['network', 'connect'];
  if (e?.ipv4) args.push('--ip', e.ipv4);
  if (e?.ipv6) args.push('--ip6', e.ipv6);
  for (const a of e?.aliases ?? []) args.push('--alias', a);
  args.push(network, container);
  return `docker ${args.map(q).join(' ')}`;
}

/** One undo op as a shell line: the CLI form and the raw API form, picked at run time. */
function opLine(op: UndoOp): string {
  const api = (method: string, path: string, body?: unknown): string =>
    `api ${method} ${q(path)} ${q(body === undefined ? '' : asciiJson(body))}`;
  const net = (n: string): string => encodeURIComponent(n);
  switch (op.op) {
    case 'create':
      return `step ${q(createCli(op.body as unknown as CreateBody))} ${q(api('POST', '/networks/create', op.body))}`;
    case 'remove':
      return `step ${q(`docker network rm ${q(op.network)}`)} ${q(api('DELETE', `/networks/${net(op.network)}`))}`;
    case 'connect':
      return `step ${q(connectCli(op.network, op.container, op.endpoint))} ${q(api('POST', `/networks/${net(op.network)}/connect`, connectBody(op.container, op.endpoint)))}`;
    case 'disconnect':
      return `step ${q(`docker network disconnect -f ${q(op.network)} ${q(op.container)}`)} ${q(api('POST', `/networks/${net(op.network)}/disconnect`, { Container: op.container, Force: true }))}`;
    case 'sh':
      return `step ${q(op.script)} ${q(op.script)}`;
  }
}

export function watchdogDir(token: string): string {
  return `/tmp/portwright-confirm-${token}`;
}

/**
 * The watchdog: waits up to `seconds` for `confirmed` (or `cancelled`) to appear in its folder; if
 * neither does, replays the undo ops, logging each to `revert.log`, and leaves `reverted`.
 */
export function watchdogScript(token: string, seconds: number, socketPath: string, ops: UndoOp[]): string {
  const dir = watchdogDir(token);
  return `#!/bin/sh
# Portwright commit-confirmed watchdog ${token}: reverts unless confirmed within ${seconds} s.
PATH="$PATH:/sbin:/usr/sbin:/usr/local/bin"
dir=${q(dir)}
sock=${q(socketPath)}
export DOCKER_HOST="unix://$sock"
i=0
while [ "$i" -lt ${seconds} ]; do
  if [ -e "$dir/confirmed" ] || [ -e "$dir/cancelled" ]; then rm -rf "$dir"; exit 0; fi
  sleep 1
  i=$((i + 1))
done
if [ -e "$dir/confirmed" ] || [ -e "$dir/cancelled" ]; then rm -rf "$dir"; exit 0; fi
touch "$dir/reverting"
# PORTWRIGHT_WATCHDOG_VIA=cli|curl|socat picks the client (for testing each, or a device whose docker CLI is broken).
if [ -n "\${PORTWRIGHT_WATCHDOG_VIA:-}" ]; then via=$PORTWRIGHT_WATCHDOG_VIA
elif command -v docker >/dev/null 2>&1; then via=cli
elif command -v curl >/dev/null 2>&1; then via=curl
elif command -v socat >/dev/null 2>&1; then via=socat
else via=none; fi
api() {
  case "$via" in
    curl)
      if [ -n "$3" ]; then curl -sSf --unix-socket "$sock" -X "$1" -H 'Content-Type: application/json' -d "$3" "http://docker$2"
      else curl -sSf --unix-socket "$sock" -X "$1" "http://docker$2"; fi ;;
    socat)
      printf '%s %s HTTP/1.0\\r\\nHost: docker\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\n\\r\\n%s' "$1" "$2" "\${#3}" "$3" |
        socat - "UNIX-CONNECT:$sock" | head -n 1 | grep -q ' 2[0-9][0-9] ' ;;
    *) echo "no way to reach $sock" >&2; return 1 ;;
  esac
}
step() {
  if [ "$via" = cli ]; then cmd=$1; else cmd=$2; fi
  if eval "$cmd" >>"$dir/revert.log" 2>&1; then echo "ok: $cmd" >>"$dir/revert.log"
  else echo "failed: $cmd" >>"$dir/revert.log"; fi
}
${ops.map(opLine).join('\n')}
touch "$dir/reverted"
`;
}

/** Shell run over SSH to start the watchdog detached from the session (its script arrives on stdin). */
export function startWatchdogCommand(token: string): string {
  const dir = q(watchdogDir(token));
  return `umask 077; mkdir -p ${dir} && cat > ${dir}/watchdog.sh && (setsid sh ${dir}/watchdog.sh </dev/null >/dev/null 2>&1 &) 2>/dev/null || (nohup sh ${dir}/watchdog.sh </dev/null >/dev/null 2>&1 &); echo started`;
}

/** Shell run over a fresh connection: confirms, or says the watchdog already reverted. */
export function confirmCommand(token: string, mark: 'confirmed' | 'cancelled' = 'confirmed'): string {
  const dir = q(watchdogDir(token));
  return `if [ -e ${dir}/reverting ] || [ -e ${dir}/reverted ]; then echo too-late; elif [ -d ${dir} ]; then touch ${dir}/${mark} && echo ${mark}; else echo missing; fi`;
}
