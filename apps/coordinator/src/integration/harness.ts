import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsPoint, RunConfigInput, RunSummary } from '@vtrain/protocol';
import { startCoordinator, type Coordinator, type CoordinatorOptions } from '../server.js';

/** What a test may set on its coordinator; the rest is fixed (port 0, a temp folder, 'test-researcher-token'). */
export type TestCoordinatorOptions = Partial<
  Pick<
    CoordinatorOptions,
    'webRoot' | 'allowedOrigins' | 'maxMessageBytes' | 'requestsPerMinute' | 'datasetMaxBytes'
  >
>;

/** A real coordinator on port 0 with a fresh data folder; `restart` keeps the folder. */
export class TestCoordinator {
  private constructor(
    readonly dataDir: string,
    public coordinator: Coordinator,
    private readonly options: TestCoordinatorOptions,
  ) {}

  static async start(options: TestCoordinatorOptions = {}): Promise<TestCoordinator> {
    const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-it-'));
    return new TestCoordinator(dataDir, await TestCoordinator.boot(dataDir, options), options);
  }

  private static boot(dataDir: string, options: TestCoordinatorOptions): Promise<Coordinator> {
    return startCoordinator({
      port: 0,
      dataDir,
      token: 'test-researcher-token',
      log: () => undefined,
      ...options,
    });
  }

  get url(): string {
    return this.coordinator.url;
  }

  /** The researcher token (fixed for tests). */
  get token(): string {
    return this.coordinator.token;
  }

  async restart(): Promise<void> {
    await this.coordinator.close();
    this.coordinator = await TestCoordinator.boot(this.dataDir, this.options);
  }

  async stop(): Promise<void> {
    await this.coordinator.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  async api(
    path: string,
    init: { method?: string; body?: unknown; token?: string | null } = {},
  ): Promise<{ status: number; body: unknown }> {
    const token = init.token === undefined ? 'test-researcher-token' : init.token;
    const response = await fetch(`${this.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  async createRun(config: RunConfigInput): Promise<string> {
    const { status, body } = await this.api('/api/runs', {
      method: 'POST',
      body: config,
    });
    if (status !== 201) throw new Error(`run not created: ${status} ${JSON.stringify(body)}`);
    return (body as { id: string }).id;
  }

  async run(id: string): Promise<RunSummary> {
    return (await this.api(`/api/runs/${id}`)).body as RunSummary;
  }

  async metrics(id: string): Promise<MetricsPoint[]> {
    return (await this.api(`/api/runs/${id}/metrics`)).body as MetricsPoint[];
  }
}

/** Headless workers as separate processes: the real CLI of @vtrain/worker. */
export function spawnWorkers(url: string, count: number): ChildProcess[] {
  const cli = createRequire(import.meta.url).resolve('@vtrain/worker/cli');
  return Array.from({ length: count }, () =>
    spawn(process.execPath, [cli, '--url', url, '--quiet'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
}

export async function stopWorkers(workers: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null) {
            resolve();
            return;
          }
          worker.once('exit', () => {
            resolve();
          });
          worker.kill('SIGTERM');
        }),
    ),
  );
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
