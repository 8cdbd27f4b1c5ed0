import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsPoint, RunConfigInput, RunSummary } from '@vtrain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killHard, spawnCoordinator } from './coordinator-process.js';
import { spawnWorkers, stopWorkers, waitFor } from './harness.js';

/*
 * SIGKILL the coordinator process mid-run and start it again on the same port
 * and data folder: the run resumes from its last checkpoint (at most one
 * checkpoint interval of versions lost), the stored metrics are intact, and
 * the headless workers, never restarted, reconnect by themselves and go on.
 */

const TOKEN = 'crash-researcher-token';
const CHECKPOINT_EVERY = 25;

const config: RunConfigInput = {
  name: 'crash',
  dataset: { name: 'synthetic', shards: 4 },
  model: { kind: 'mlp', hiddenUnits: [16] },
  schedule: { kind: 'async' },
  evaluation: { everyVersions: 20, testExamples: 300 },
  // Only the version rule: the loss bound is exactly one interval of versions.
  checkpoint: { everyVersions: CHECKPOINT_EVERY, everySeconds: 86_400 },
  stop: { maxSeconds: 3600 },
};

describe('coordinator crash (SIGKILL) and restart', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('resumes from the last checkpoint, keeps metrics, and the workers reconnect by themselves', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-crash-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let coordinator: ChildProcess = await spawnCoordinator({ port, dataDir, token: TOKEN });
    cleanup.push(() => killHard(coordinator));
    const api = async <T>(path: string, method = 'GET'): Promise<T> => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return (await response.json()) as T;
    };
    const created = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    const { id } = (await created.json()) as { id: string };

    const workers = spawnWorkers(url, 2);
    cleanup.push(() => stopWorkers(workers));

    const version = async (): Promise<number> => (await api<RunSummary>(`/api/runs/${id}`)).version;
    const killAt = 3 * CHECKPOINT_EVERY + 7; // between two checkpoints
    await waitFor(`version ${killAt}`, 120_000, async () =>
      (await version()) >= killAt ? true : undefined,
    );
    const metricsBefore = await api<MetricsPoint[]>(`/api/runs/${id}/metrics`);
    // Read just before the kill: a lower bound on the version the killed process had reached.
    const versionAtKill = await version();
    await killHard(coordinator);

    coordinator = await spawnCoordinator({ port, dataDir, token: TOKEN });
    const resumed = await api<RunSummary>(`/api/runs/${id}`);
    const lost = versionAtKill - resumed.version;
    console.log(
      `crash: killed at version >= ${versionAtKill}, resumed at ${resumed.version} ` +
        `(last checkpoint), ${lost} versions lost, checkpoint interval ${CHECKPOINT_EVERY}`,
    );
    expect(resumed.status).toBe('active');
    expect(resumed.version % CHECKPOINT_EVERY).toBe(0);
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(CHECKPOINT_EVERY);

    // Every metrics point the API had served before the kill is still stored, unchanged.
    const metricsAfter = await api<MetricsPoint[]>(`/api/runs/${id}/metrics`);
    expect(metricsAfter.slice(0, metricsBefore.length)).toEqual(metricsBefore);

    // The same worker processes reconnect (jittered backoff) and train on past the crash point.
    const target = versionAtKill + 2 * CHECKPOINT_EVERY;
    await waitFor(`version ${target} after the restart`, 120_000, async () =>
      (await version()) >= target ? true : undefined,
    );
    // Both come back (each on its own jittered backoff, so not necessarily together).
    await waitFor('both workers back', 60_000, async () =>
      (await api<RunSummary>(`/api/runs/${id}`)).activeWorkers === 2 ? true : undefined,
    );
    for (const worker of workers) expect(worker.exitCode).toBeNull();
  }, 300_000);
});
