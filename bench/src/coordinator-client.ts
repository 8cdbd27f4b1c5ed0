import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCoordinator, type Coordinator } from '@vtrain/coordinator';
import type { RunConfigInput, RunSummary } from '@vtrain/protocol';

/** A real coordinator on a free port with a throw-away data directory. */
export interface BenchCoordinator {
  readonly coordinator: Coordinator;
  createRun(config: RunConfigInput): Promise<string>;
  summary(runId: string): Promise<RunSummary>;
  close(): Promise<void>;
}

export async function startBenchCoordinator(): Promise<BenchCoordinator> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vtrain-bench-'));
  const coordinator = await startCoordinator({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    token: 'bench-token',
    log: () => undefined,
  });
  return {
    coordinator,
    async createRun(config) {
      const response = await fetch(`${coordinator.url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
        body: JSON.stringify(config),
      });
      const body = (await response.json()) as { id?: string; message?: string };
      if (!response.ok || body.id === undefined) {
        throw new Error(`run not created: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.id;
    },
    async summary(runId) {
      const response = await fetch(`${coordinator.url}/api/runs/${runId}`);
      return (await response.json()) as RunSummary;
    },
    async close() {
      await coordinator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
