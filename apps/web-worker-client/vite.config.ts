import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `pnpm dev` forwards the API and socket.io (a coordinator started with `pnpm start`). */
const coordinator = process.env.COORDINATOR_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    // tfjs with its WebGPU, WebGL and WASM backends is one ~1.5 MB chunk, loaded only by the engine's Web Worker.
    chunkSizeWarningLimit: 4_000,
    // Two pages: the contribute page never loads chart code, the dashboard never loads tfjs.
    rollupOptions: { input: { contribute: 'index.html', dashboard: 'dashboard/index.html' } },
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': coordinator,
      '/socket.io': { target: coordinator, ws: true },
    },
  },
});
