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
    { path: '/plans', name: 'plans', component: () => import('./views/PlansView.vue') },
    {
      path: '/devices/:name/topology',
      name: 'topology',
      component: () => import('./views/TopologyView.vue'),
      props: true,
    },
    { path: '/devices/:name/audit', name: 'audit', component: () => import('./views/AuditView.vue'), props: true },
    {
      path: '/devices/:name/new-network',
      name: 'new-network',
      component: () => import('./views/NetworkWizardView.vue'),
      props: (route) => ({
        name: String(route.params.name),
        driver: typeof route.query.driver === 'string' ? route.query.driver : undefined,
        port: typeof route.query.port === 'string' ? route.query.port : undefined,
      }),
    },
  ],
});
