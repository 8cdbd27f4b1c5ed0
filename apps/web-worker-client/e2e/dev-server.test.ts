import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';

/** `pnpm dev`: Vite serves the pages and forwards the API and socket.io to a coordinator. */
let coordinator: TestCoordinator;
let vite: ViteDevServer;
let viteUrl: string;

beforeAll(async () => {
  coordinator = await startTestCoordinator();
  process.env.COORDINATOR_URL = coordinator.url;
  vite = await createServer({
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    root: fileURLToPath(new URL('..', import.meta.url)),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0 },
  });
  await vite.listen();
  const url = vite.resolvedUrls?.local[0];
  if (url === undefined) throw new Error('the Vite dev server did not report its URL');
  viteUrl = url.replace(/\/$/, '');
});

afterAll(async () => {
  await vite.close();
  await coordinator.stop();
  delete process.env.COORDINATOR_URL;
});

describe('the Vite dev server', () => {
  it('serves both pages from source', async () => {
    for (const [path, entry] of [
      ['/', '/src/contribute/main.tsx'],
      ['/dashboard/', '/src/dashboard/main.tsx'],
    ] as const) {
      const response = await fetch(`${viteUrl}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(entry);
    }
  });

  it('forwards /api and socket.io to the coordinator', async () => {
    const health = await fetch(`${viteUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    // An engine.io handshake through the proxy: socket.io reaches the coordinator.
    const handshake = await fetch(`${viteUrl}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    expect(await handshake.text()).toMatch(/^0\{"sid":/);
  });
});
