import { request as httpRequest } from 'node:http';
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
import Database from 'better-sqlite3';
import { CONTENT_SECURITY_POLICY } from '../http/security-headers.js';
import { MIN_TOKEN_LENGTH, ResearcherTokenError } from '../net/researcher-token.js';
import { startCoordinator, type Coordinator } from '../server.js';
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
      expect(JSON.stringify(subscribed)).not.toContain('integration test'); // the raw description
      for (const text of texts) {
        expect(text).not.toMatch(/127\.0\.0\.1|::1|::ffff:|"(ip|address|remoteAddress)"/);
      }
    } finally {
      worker.disconnect();
      dashboard.disconnect();
    }
  });
});

/** A raw HTTP/1.1 exchange, so a test can set `Host` (fetch may not) and hold a body back. */
function rawHttp(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    /** Sent before waiting for the answer; the rest of a declared content-length is never sent. */
    bodyStart?: string;
  },
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          req.destroy();
        });
      },
    );
    req.on('error', reject);
    if (options.bodyStart === undefined) req.end();
    else req.write(options.bodyStart); // the request stays open: the server has not the body
  });
}

describe('researcher token rules', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtrain-token-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`refuses to start with an empty or short token (under ${MIN_TOKEN_LENGTH} characters)`, async () => {
    for (const token of [
      '',
      'short-token',
      'x'.repeat(MIN_TOKEN_LENGTH - 1),
      'has a space in it ok',
    ]) {
      await expect(
        startCoordinator({ port: 0, dataDir, token, log: () => undefined }),
      ).rejects.toThrow(ResearcherTokenError);
    }
    // An empty token file (the old coordinator accepted it as the token '').
    await writeFile(join(dataDir, 'researcher-token'), '\n');
    const error = await startCoordinator({ port: 0, dataDir, log: () => undefined }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ResearcherTokenError);
    expect(String(error)).toContain(join(dataDir, 'researcher-token'));
    expect(String(error)).toContain(`at least ${MIN_TOKEN_LENGTH}`);
  });
});

describe('HTTP guards', () => {
  let coordinator: Coordinator;
  let dataDir: string;
  const logged: string[] = [];
  const TOKEN = 'guards-researcher-token';
  let runId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtrain-guards-'));
    coordinator = await startCoordinator({
      port: 0,
      dataDir,
      token: TOKEN,
      log: (message) => logged.push(message),
      allowedOrigins: ['https://vtrain.example.org'],
    });
    runId = await coordinator.manager.createRun(config);
  });
  afterAll(async () => {
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('checks the token before reading a body: a 4 MiB upload without it is answered at once', async () => {
    // Only 16 bytes of the declared 4 MiB are ever sent: an answer proves nothing waited for the rest.
    const answer = await rawHttp(coordinator.url, {
      method: 'POST',
      path: '/api/runs',
      headers: { 'content-type': 'application/json', 'content-length': String(4 * 1024 * 1024) },
      bodyStart: '{"name":"xxxxx",',
    });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'unauthorized' });
  });

  it("refuses Host names that are not the coordinator's (DNS rebinding), on HTTP and socket.io", async () => {
    const { port } = coordinator;
    const rebound = { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` };
    for (const headers of [rebound, { host: `attacker.example:${port}` }]) {
      const answer = await rawHttp(coordinator.url, { path: '/api/runs', headers });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'forbidden-host' });
      const poll = await rawHttp(coordinator.url, {
        path: '/socket.io/?EIO=4&transport=polling',
        headers,
      });
      expect(poll.status).toBe(403);
    }
    // Its own names, IP literals and the names of ORIGINS pass.
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `192.168.1.20:${port}`,
      'vtrain.example.org',
    ]) {
      const answer = await rawHttp(coordinator.url, { path: '/api/health', headers: { host } });
      expect(answer.status, host).toBe(200);
      const poll = await rawHttp(coordinator.url, {
        path: '/socket.io/?EIO=4&transport=polling',
        headers: { host },
      });
      expect(poll.status, host).toBe(200);
    }
  });

  it('answers an internal error with a generic message and a reference, the details only in the log', async () => {
    // A run row damaged outside the coordinator makes reading it fail inside.
    const raw = new Database(join(dataDir, 'coordinator.sqlite'));
    raw
      .prepare(
        `INSERT INTO runs (id, name, status, config, created_at, parameter_count, version,
           elapsed_seconds, ended_reason) VALUES ('damaged', 'x', 'stopped', '{not json', 0, 1, 0, 0, NULL)`,
      )
      .run();
    raw.close();
    const answer = await fetch(`${coordinator.url}/api/runs/damaged`);
    expect(answer.status).toBe(500);
    const body = (await answer.json()) as { error: string; message: string };
    expect(body.error).toBe('internal');
    expect(body.message).not.toMatch(/corrupt|json|sqlite|runs row|\//i);
    const ref = /reference ([0-9a-f]{12})/.exec(body.message)?.[1];
    expect(ref).toBeDefined();
    expect(logged.find((line) => line.includes(`internal error ${ref ?? '?'}`))).toMatch(
      /corrupt-row/,
    );
    const db = new Database(join(dataDir, 'coordinator.sqlite'));
    db.prepare("DELETE FROM runs WHERE id = 'damaged'").run();
    db.close();
  });

  it('throttles wrong tokens per address, on HTTP and the dashboard socket', async () => {
    const stop = (token: string): Promise<Response> =>
      fetch(`${coordinator.url}/api/runs/${runId}/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    let refused = 0;
    for (let i = 0; i < 10; i++)
      if ((await stop(`guess-${i}-aaaaaaaaaaaaaaaa`)).status === 401) refused += 1;
    expect(refused).toBe(10);
    const throttled = await stop('guess-10-aaaaaaaaaaaaaaaa');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await throttled.json()).toMatchObject({ error: 'rate-limited' });
    // The right token is not even compared while the address is throttled: guessing gains nothing.
    expect((await stop(TOKEN)).status).toBe(429);
    // The dashboard socket shares the throttle: with the right token it is only a viewer now.
    const viewer = await connectSocket<DashboardSocket>(coordinator.url, DASHBOARD_NAMESPACE, {
      auth: { token: TOKEN },
    });
    try {
      expect(await viewer.emitWithAck('stop-run', { type: 'stop-run', runId })).toMatchObject({
        code: 'unauthorized',
      });
    } finally {
      viewer.disconnect();
    }
    expect(coordinator.manager.getRun(runId)?.status).toBe('active');
  });
});

describe('HTTP rate limit per address', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start({ requestsPerMinute: 30 });
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('answers 429 rate-limited past the limit, to every route', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push((await fetch(`${coordinator.url}/api/runs`)).status);
    }
    expect(statuses.slice(0, 30).every((status) => status === 200)).toBe(true);
    expect(statuses[30]).toBe(429);
    const limited = await fetch(`${coordinator.url}/api/health`);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: 'rate-limited' });
    expect(limited.headers.get('retry-after')).not.toBeNull();
  });
});

describe('worker table privacy', () => {
  let coordinator: TestCoordinator;
  let runId: string;
  const UA =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.86 Safari/537.36 Edg/131.0.2903.70';
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
    runId = await coordinator.createRun(config);
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('shows families, never the user agent, and only to the researcher; viewers get counts', async () => {
    const worker = await connectRawWorker(coordinator.url);
    const researcher = await connectSocket<DashboardSocket>(coordinator.url, DASHBOARD_NAMESPACE, {
      auth: { token: coordinator.token },
    });
    const viewer = await connectSocket<DashboardSocket>(coordinator.url, DASHBOARD_NAMESPACE);
    const viewerNotices: unknown[] = [];
    viewer.on('workers', (notice) => viewerNotices.push(notice));
    try {
      await worker.emitWithAck('hello', {
        ...HELLO,
        client: { kind: 'browser', description: UA },
        backend: 'webgpu',
      });
      const mine = await researcher.emitWithAck('subscribe', { type: 'subscribe', runId });
      const theirs = await viewer.emitWithAck('subscribe', { type: 'subscribe', runId });
      expect(mine).toMatchObject({
        type: 'subscribed',
        workers: [
          { kind: 'browser', browser: 'Microsoft Edge 131', os: 'Windows', backend: 'webgpu' },
        ],
      });
      expect(theirs).toMatchObject({ type: 'subscribed', run: { activeWorkers: 1 } });
      expect(theirs).not.toHaveProperty('workers');
      // The periodic notice reaches the researcher; the viewer, asked after it, had none.
      const notice = await new Promise<unknown>((resolve) => researcher.once('workers', resolve));
      expect(JSON.stringify(notice)).not.toContain('537.36');
      await viewer.emitWithAck('subscribe', { type: 'subscribe', runId });
      expect(viewerNotices).toEqual([]);
      for (const text of [JSON.stringify(mine), JSON.stringify(theirs), JSON.stringify(notice)]) {
        expect(text).not.toContain('AppleWebKit');
        expect(text).not.toContain('6778');
      }
    } finally {
      worker.disconnect();
      researcher.disconnect();
      viewer.disconnect();
    }
  });
});
