// Builds the Electron app: main (ESM), preload (CommonJS, as a sandboxed preload must be), renderer.
import vue from '@vitejs/plugin-vue';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      lib: { entry: resolve('electron/main/index.ts'), formats: ['es'] },
      rolldownOptions: { external: ['better-sqlite3', 'ssh2', 'cpu-features'] },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require nothing but electron: bundle what it uses.
      externalizeDeps: false,
      outDir: 'out/preload',
      lib: { entry: resolve('electron/preload/index.ts'), formats: ['cjs'] },
      rolldownOptions: { output: { entryFileNames: 'index.cjs' } },
    },
  },
  renderer: {
    root: resolve('renderer'),
    base: './',
    plugins: [vue()],
    build: { outDir: resolve('out/renderer'), rolldownOptions: { input: resolve('renderer/index.html') } },
  },
});
