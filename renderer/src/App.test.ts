import { mount, flushPromises } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import App from './App.vue';
import { router } from './router';

describe('App', () => {
  it('tells the user there is no core and offers to try again', async () => {
    delete window.api;
    await router.push('/devices');
    const wrapper = mount(App, { global: { plugins: [createPinia(), router] } });
    await router.isReady();
    await flushPromises();
    expect(wrapper.get('[role=alert]').text()).toContain('not connected to a Portwright core');
    expect(wrapper.get('[role=alert] button').text()).toBe('Try again');
    expect(wrapper.text()).toContain('No devices yet');
  });
});
