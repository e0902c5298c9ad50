import { flushPromises, mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../../electron/core/contract';
import { router } from '../router';
import NetworkWizardView from './NetworkWizardView.vue';

const checked: string[] = [];

/** A fake preload bridge (the boundary): one port, and a checker that dislikes one gateway. */
function fakeBridge(): void {
  const ok = <T>(data: T): Promise<Result<T>> => Promise.resolve({ ok: true, data });
  (window as unknown as { api: unknown }).api = {
    appInfo: () => ok({ name: 'Portwright', version: '0', frontEnd: 'test', platform: 'x', node: '20' }),
    ports: () =>
      ok([
        {
          name: 'eth1',
          isHardwarePort: true,
          kind: 'ethernet',
          operState: 'up',
          carrier: true,
          management: false,
          addresses: [{ family: 4, address: '192.0.2.10', prefix: 24, scope: 'global' }],
          routes: [],
          dockerNetworks: [],
        },
      ]),
    containers: () => ok([]),
    networks: () => ok([]),
    planCheck: (input: { text: string }) => {
      checked.push(input.text);
      const plan = JSON.parse(input.text) as { networks: { ipv4?: { gateway?: string } }[] };
      const bad = plan.networks[0]?.ipv4?.gateway === '198.51.100.1';
      return ok({
        findings: bad
          ? [
              {
                severity: 'error',
                code: 'GATEWAY_OUTSIDE_SUBNET',
                path: 'networks[0].ipv4.gateway',
                message: 'the gateway 198.51.100.1 is outside 192.0.2.0/24',
                hint: 'Pick an address inside 192.0.2.0/24',
              },
            ]
          : [],
        errors: bad ? 1 : 0,
        warnings: 0,
        device: 'gw',
      });
    },
    on: () => () => undefined,
  };
}

const settle = async (): Promise<void> => {
  await new Promise((r) => setTimeout(r, 450));
  await flushPromises();
};

describe('network wizard', () => {
  it("suggests addressing from the port, and shows the checker's finding at the gateway field with its hint", async () => {
    fakeBridge();
    const wrapper = mount(NetworkWizardView, {
      props: { name: 'gw', driver: 'macvlan', port: 'eth1' },
      global: { plugins: [createPinia(), router] },
      attachTo: document.body,
    });
    await flushPromises();
    expect(wrapper.text()).toContain('their own devices on the field network');
    await wrapper.get('input[aria-label="Network name"]').setValue('field-a');
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Next')
      ?.trigger('click');
    await flushPromises();
    await wrapper
      .findAll('button')
      .find((b) => b.text().startsWith('Suggest from eth1'))
      ?.trigger('click');
    await flushPromises();
    expect((wrapper.get('input[aria-label="Subnet"]').element as HTMLInputElement).value).toBe('192.0.2.0/24');
    expect((wrapper.get('input[aria-label="Keep out"]').element as HTMLInputElement).value).toBe('192.0.2.10');

    await wrapper.get('input[aria-label="Gateway"]').setValue('198.51.100.1');
    await settle();
    expect(wrapper.text()).toContain(
      'the gateway 198.51.100.1 is outside 192.0.2.0/24. Pick an address inside 192.0.2.0/24',
    );
    expect(wrapper.text()).toContain('1 error(s)');
    // What was checked is the plan the answers make, against the device.
    expect(JSON.parse(checked.at(-1) ?? '{}')).toMatchObject({
      networks: [
        { name: 'field-a', driver: 'macvlan', port: 'eth1', ipv4: { subnet: '192.0.2.0/24', gateway: '198.51.100.1' } },
      ],
    });

    await wrapper.get('input[aria-label="Gateway"]').setValue('192.0.2.1');
    await settle();
    expect(wrapper.text()).not.toContain('is outside');
    wrapper.unmount();
  });
});
