// The app's screens. Hash history: the same URLs work from file:// in Electron and under portwright serve.
import { createRouter, createWebHashHistory } from 'vue-router';
import DevicesView from './views/DevicesView.vue';

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/devices' },
    { path: '/devices', name: 'devices', component: DevicesView },
    {
      path: '/devices/:name',
      name: 'device',
      component: () => import('./views/DeviceView.vue'),
      props: true,
    },
  ],
});
