// Which core this window talks to, and whether it answers.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo, ErrorInfo } from '../../../electron/core/contract';
import { ApiError, api } from '../api';

export type CoreState = 'loading' | 'ready' | 'error';

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo>();
  const error = ref<ErrorInfo>();
  const state = ref<CoreState>('loading');

  async function load(): Promise<void> {
    state.value = 'loading';
    error.value = undefined;
    try {
      info.value = await api.appInfo({});
      state.value = 'ready';
    } catch (e) {
      error.value =
        e instanceof ApiError ? e : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
      state.value = 'error';
    }
  }

  const title = computed(() => (info.value ? `Portwright ${info.value.version}` : 'Portwright'));
  return { info, error, state, title, load };
});
