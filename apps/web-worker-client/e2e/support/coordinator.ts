import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoordinator, type Coordinator } from '@vtrain/coordinator';
import type { RunConfigInput, RunSummary } from '@vtrain/protocol';

/** The web client as `pnpm build` leaves it; the e2e tests serve exactly what production serves. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist', import.meta.url));

export interface TestCoordinator {
  readonly coordinator: Coordinator;
  readonly url: string;
  readonly token: string;
  createRun(config: RunConfigInput): Promise<string>;
  run(id: string): Promise<RunSummary>;
  close(): Promise<void>;
}

/** A real coordinator on a free port, a fresh data directory, serving the built pages. */
export async function startTestCoordinator(): Promise<TestCoordinator> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-e2e-'));
  const coordinator = await startCoordinator({
    port: 0,
    dataDir,
    token: 'e2e-token',
    webRoot: WEB_ROOT,
    log: () => undefined,
  });
  const { url, token } = coordinator;
  return {
    coordinator,
    url,
    token,
    async createRun(config) {
      const response = await fetch(`${url}/api/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(config),
      });
      if (response.status !== 201) {
        throw new Error(`create run: HTTP ${response.status} ${await response.text()}`);
      }
      return ((await response.json()) as { id: string }).id;
    },
    async run(id) {
      return (await (await fetch(`${url}/api/runs/${id}`)).json()) as RunSummary;
    },
    async close() {
      await coordinator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
