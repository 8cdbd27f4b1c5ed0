import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DASHBOARD_NAMESPACE,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type RunConfigInput,
} from '@vtrain/protocol';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../http/security-headers.js';
import { TestCoordinator } from './harness.js';
import { HELLO, connectRawWorker, connectSocket } from './raw-worker.js';

/*
 * Researcher actions need the token on HTTP and socket.io, workers cannot
 * reach them, foreign origins are refused, pages carry security headers, and
 * no answer carries a volunteer's address.
 */

type DashboardSocket = Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>;

const ALLOWED = 'http://allowed.example:5173';
const FOREIGN = 'http://evil.example';

const config: RunConfigInput = {
  name: 'security',
  dataset: { name: 'synthetic', shards: 2 },
  model: { kind: 'mlp', hiddenUnits: [8] },
  schedule: { kind: 'async' },
  stop: { maxSeconds: 600 },
};

const EXPORTS = ['tfjs/model.json', 'tfjs/weights.bin', 'model.safetensors', 'manifest.json'];

describe('security', () => {
  let coordinator: TestCoordinator;
  let webRoot: string;
  let runId: string;

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'vtrain-web-'));
    await mkdir(join(webRoot, 'dashboard'));
    await writeFile(join(webRoot, 'index.html'), '<title>Contribute</title>');
    await writeFile(join(webRoot, 'dashboard', 'index.html'), '<title>Dashboard</title>');
    coordinator = await TestCoordinator.start({ webRoot, allowedOrigins: [ALLOWED] });
    runId = await coordinator.createRun(config);
  });
  afterAll(async () => {
    await coordinator.stop();
    await rm(webRoot, { recursive: true, force: true });
  });

  const raw = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${coordinator.url}${path}`, init);

  it('answers 401 to researcher HTTP actions without the right token, and serves them with it', async () => {
    const actions: [string, string, unknown][] = [
      ['POST', '/api/runs', config],
      ['POST', `/api/runs/${runId}/stop`, undefined],
      ...EXPORTS.map((file): [string, string, unknown] => [
        'GET',
        `/api/runs/${runId}/export/${file}`,
        undefined,
      ]),
    ];
    for (const [method, path, body] of actions) {
      for (const token of [null, 'wrong-token', '']) {
        const answer = await coordinator.api(path, { method, body, token });
        expect(answer.status, `${method} ${path} with ${String(token)}`).toBe(401);
        expect(answer.body).toMatchObject({ error: 'unauthorized' });
      }
    }
    // Nothing happened: one run, still active.
    const runs = (await coordinator.api('/api/runs')).body as { status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['active']);
    // With the token the exports download.
    for (const file of EXPORTS) {
      const answer = await raw(`/api/runs/${runId}/export/${file}`, {
        headers: { authorization: 'Bearer test-researcher-token' },
      });
      expect(answer.status, file).toBe(200);
      expect((await answer.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('refuses foreign origins with 403 on the API, allows its own and the configured ones', async () => {
    const host = new URL(coordinator.url).host;
    const foreign = await raw('/api/runs', { headers: { origin: FOREIGN } });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'forbidden-origin' });
    const foreignPost = await raw('/api/runs', {
      method: 'POST',
      headers: {
        origin: FOREIGN,
        authorization: 'Bearer test-researcher-token',
        'content-type': 'application/json',
      },
      body: JSON.stringify(config),
    });
    expect(foreignPost.status).toBe(403); // even with the token: a page of another site is not the researcher
    expect((await raw('/api/runs', { headers: { origin: 'null' } })).status).toBe(403);

    const own = await raw('/api/runs', { headers: { origin: `http://${host}` } });
    expect(own.status).toBe(200);
    const allowed = await raw('/api/runs', { headers: { origin: ALLOWED } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const preflight = await raw(`/api/runs/${runId}/stop`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(
      (await raw('/api/runs', { method: 'OPTIONS', headers: { origin: FOREIGN } })).status,
    ).toBe(403);
  });

  it('refuses foreign origins on socket.io; pages of its own origin and headless workers connect', async () => {
    const host = new URL(coordinator.url).host;
    await expect(
      connectRawWorker(coordinator.url, { extraHeaders: { origin: FOREIGN } }),
    ).rejects.toThrow();
    await expect(
      connectSocket(coordinator.url, DASHBOARD_NAMESPACE, {
        extraHeaders: { origin: FOREIGN },
        auth: { token: 'test-researcher-token' },
      }),
    ).rejects.toThrow();
    const origins: Record<string, string>[] = [
      {},
      { origin: `http://${host}` },
      { origin: ALLOWED },
    ];
    for (const headers of origins) {
      const socket = await connectRawWorker(coordinator.url, { extraHeaders: headers });
      expect((await socket.emitWithAck('hello', HELLO)).type).toBe('welcome');
      socket.disconnect();
    }
  });

  it('needs the token for dashboard control events; workers cannot reach them', async () => {
    const worker = await connectRawWorker(coordinator.url);
    try {
      await worker.emitWithAck('hello', HELLO);
      // The worker namespace has no researcher events at all: a typed refusal, nothing done.
      for (const event of ['stop-run', 'create-run', 'subscribe', 'export']) {
        const reply: unknown = await (worker as unknown as DashboardSocket).emitWithAck(
          event as 'stop-run',
          { type: 'stop-run', runId },
        );
        expect(reply, event).toMatchObject({ type: 'error', code: 'invalid-message' });
      }
    } finally {
      worker.disconnect();
    }
    for (const auth of [{}, { token: 'wrong-token' }, { token: 42 }]) {
      const viewer = await connectSocket<DashboardSocket>(coordinator.url, DASHBOARD_NAMESPACE, {
        auth,
      });
      const reply = await viewer.emitWithAck('stop-run', { type: 'stop-run', runId });
      expect(reply).toMatchObject({ type: 'error', code: 'unauthorized' });
      viewer.disconnect();
    }
    expect((await coordinator.run(runId)).status).toBe('active');
  });

  it('sets security headers and a CSP that lets the pages run tfjs (module workers, WASM, WebGPU)', async () => {
    for (const path of ['/', '/dashboard/', '/api/health']) {
      const answer = await raw(path);
      expect(answer.status, path).toBe(200);
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
      expect(csp).toContain("worker-src 'self' blob:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain("'unsafe-eval'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(Object.keys(CONTENT_SECURITY_POLICY)).toContain('connect-src');
  });

  it('never sends a volunteer address in the API or to dashboards', async () => {
    const worker = await connectRawWorker(coordinator.url);
    const dashboard = await connectSocket<DashboardSocket>(coordinator.url, DASHBOARD_NAMESPACE, {
      auth: { token: 'test-researcher-token' },
    });
    try {
      await worker.emitWithAck('hello', HELLO);
      const subscribed = await dashboard.emitWithAck('subscribe', { type: 'subscribe', runId });
      const texts = [
        JSON.stringify(subscribed),
        JSON.stringify((await coordinator.api('/api/runs')).body),
        JSON.stringify((await coordinator.api(`/api/runs/${runId}`)).body),
        JSON.stringify((await coordinator.api(`/api/runs/${runId}/metrics`)).body),
      ];
      expect(JSON.stringify(subscribed)).toContain('"workers":[{');
      for (const text of texts) {
        expect(text).not.toMatch(/127\.0\.0\.1|::1|::ffff:|"(ip|address|remoteAddress)"/);
      }
    } finally {
      worker.disconnect();
      dashboard.disconnect();
    }
  });
});
