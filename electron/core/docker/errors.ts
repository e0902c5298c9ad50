// Docker daemon errors in plain words: a stable code, a message and a hint, the daemon's own text kept.
import { PortwrightError } from '../errors.js';

interface Rule {
  test: RegExp;
  code: string;
  message: string;
  hint: string;
}

const RULES: Rule[] = [
  {
    test: /pool overlaps|overlaps with other one on this address space/i,
    code: 'SUBNET_OVERLAP',
    message: 'the subnet overlaps a network the engine already has',
    hint: 'Pick a subnet no other Docker network on the device uses (see `portwright networks DEVICE`).',
  },
  {
    test: /parent interface .*not found|-o parent interface was not found|no such network interface|link not found/i,
    code: 'PARENT_NOT_FOUND',
    message: 'the parent port does not exist on the device',
    hint: 'Check the port name with `portwright ports DEVICE`.',
  },
  {
    test: /device or resource busy/i,
    code: 'PARENT_IN_USE',
    message: 'the parent port is already used by another macvlan or ipvlan network',
    hint: 'A port carries macvlan or ipvlan, not both; use a VLAN sub-interface or another port.',
  },
  {
    test: /invalid subinterface vlan|vlan id must be|invalid vlan/i,
    code: 'BAD_VLAN',
    message: 'the VLAN id is not valid',
    hint: 'A VLAN id is a whole number from 1 to 4094.',
  },
  {
    test: /operation not supported/i,
    code: 'KERNEL_UNSUPPORTED',
    message: "the device's kernel does not support this (ipvlan or 802.1Q VLANs are often missing on embedded kernels)",
    hint: 'Use macvlan, or a kernel with the ipvlan / 8021q modules.',
  },
  {
    test: /address already in use|ip(v4)? address .*already (in use|allocated)/i,
    code: 'ADDRESS_IN_USE',
    message: 'the address is already in use on that network',
    hint: 'Give the container another static address, or detach whatever holds it.',
  },
  {
    test: /no available ipv4 addresses|out of range|no matching subnet|does not belong to any|invalid address/i,
    code: 'ADDRESS_OUT_OF_RANGE',
    message: "the address is outside the network's subnet or range",
    hint: "Pick an address inside the network's subnet (and its range, if it has one).",
  },
  {
    test: /network with name .* already exists/i,
    code: 'NETWORK_EXISTS',
    message: 'a network of that name already exists',
    hint: 'Choose another name, or change the existing network with a plan.',
  },
  {
    test: /no such container/i,
    code: 'CONTAINER_NOT_FOUND',
    message: 'no such container on the device',
    hint: 'Check the name with `portwright containers DEVICE`.',
  },
  {
    test: /network .* not found|no such network/i,
    code: 'NETWORK_NOT_FOUND',
    message: 'no such network on the device',
    hint: 'Check the name with `portwright networks DEVICE`.',
  },
  {
    test: /permission denied/i,
    code: 'DOCKER_PERMISSION',
    message: 'the engine refused: permission denied',
    hint: 'Connect as a user in the docker group, or as root.',
  },
];

/** What the daemon said: dockerode puts the JSON body's message on `json.message` or in the text. */
export function daemonMessage(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const json = (e as { json?: { message?: unknown } }).json;
    if (json && typeof json.message === 'string') return json.message;
  }
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '').trim();
}

export function translateDockerError(e: unknown): PortwrightError {
  if (e instanceof PortwrightError) return e;
  const said = daemonMessage(e);
  const rule = RULES.find((r) => r.test.test(said));
  if (rule) return new PortwrightError({ code: rule.code, message: rule.message, hint: rule.hint, detail: said });
  return new PortwrightError({
    code: 'DOCKER_ERROR',
    message: `the Docker engine said: ${said}`,
    hint: 'See the engine log on the device (journalctl -u docker) for more.',
    detail: said,
  });
}
