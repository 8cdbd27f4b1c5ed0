import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveWebClient } from './web-client.js';

let webRoot: string;
let app: FastifyInstance;

beforeEach(async () => {
  webRoot = await mkdtemp(join(tmpdir(), 'vtrain-web-'));
  app = Fastify();
});

afterEach(async () => {
  await app.close();
  await rm(webRoot, { recursive: true, force: true });
});

async function writeBuild(): Promise<void> {
  await mkdir(join(webRoot, 'dashboard'), { recursive: true });
  await mkdir(join(webRoot, 'assets'), { recursive: true });
  await writeFile(join(webRoot, 'index.html'), '<title>Contribute</title>');
  await writeFile(join(webRoot, 'dashboard', 'index.html'), '<title>Dashboard</title>');
  await writeFile(join(webRoot, 'assets', 'contribute-abc123.js'), 'export {};');
}

describe('serveWebClient', () => {
  it('serves the contribute page at / and the dashboard at /dashboard/, pages revalidated', async () => {
    await writeBuild();
    serveWebClient(app, webRoot);
    const contribute = await app.inject('/');
    expect(contribute.statusCode).toBe(200);
    expect(contribute.body).toContain('Contribute');
    expect(contribute.headers['content-type']).toMatch(/^text\/html/);
    expect(contribute.headers['cache-control']).toBe('no-cache');

    const redirect = await app.inject('/dashboard');
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/dashboard/');
    const dashboard = await app.inject('/dashboard/');
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('Dashboard');
  });

  it('lets browsers keep content-hashed bundles for good', async () => {
    await writeBuild();
    serveWebClient(app, webRoot);
    const bundle = await app.inject('/assets/contribute-abc123.js');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject('/assets/missing.js')).statusCode).toBe(404);
    expect((await app.inject('/../package.json')).statusCode).toBe(404);
  });

  it('answers 503 with the build command when the client is not built', async () => {
    serveWebClient(app, webRoot);
    for (const path of ['/', '/dashboard', '/dashboard/']) {
      const response = await app.inject(path);
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ error: 'web-client-not-built' });
      expect(response.json<{ message: string }>().message).toContain('pnpm build');
    }
  });
});
