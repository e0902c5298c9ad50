import { describe, expect, it } from 'vitest';
import { translateDockerError } from './errors.js';

// Messages as Docker daemons write them (moby's libnetwork and daemon).
const cases: [string, string][] = [
  ['Pool overlaps with other one on this address space', 'SUBNET_OVERLAP'],
  ['invalid subinterface vlan name eth9, example formatting is eth0.10', 'BAD_VLAN'],
  ['-o parent interface was not found on the host: eth9', 'PARENT_NOT_FOUND'],
  ['failed to create the macvlan port: device or resource busy', 'PARENT_IN_USE'],
  ['failed to create the ipvlan port: operation not supported', 'KERNEL_UNSUPPORTED'],
  ['failed to create eth1.300 vlan link: operation not supported', 'KERNEL_UNSUPPORTED'],
  ['vlan id must be between 1-4094, received: 5000', 'BAD_VLAN'],
  ['Address already in use', 'ADDRESS_IN_USE'],
  ["no available IPv4 addresses on this network's address pools: field-a", 'ADDRESS_OUT_OF_RANGE'],
  ["Invalid address 10.9.9.9: It does not belong to any of this network's subnets", 'ADDRESS_OUT_OF_RANGE'],
  ['network with name field-a already exists', 'NETWORK_EXISTS'],
  ['No such container: plc-gateway', 'CONTAINER_NOT_FOUND'],
  ['network field-z not found', 'NETWORK_NOT_FOUND'],
];

describe('Docker daemon errors', () => {
  it.each(cases)('says "%s" as %s, keeping the daemon\'s words', (said, code) => {
    const err = translateDockerError(
      Object.assign(new Error(`(HTTP code 400) unexpected - ${said}`), { json: { message: said } }),
    );
    expect(err.code).toBe(code);
    expect(err.detail).toBe(said);
    expect(err.hint).toBeTruthy();
    expect(err.message).not.toContain('HTTP code');
  });

  it('keeps an unknown daemon message visible with a generic code', () => {
    const err = translateDockerError(new Error('(HTTP code 500) server error - something new broke'));
    expect(err.code).toBe('DOCKER_ERROR');
    expect(err.message).toContain('something new broke');
  });
});
