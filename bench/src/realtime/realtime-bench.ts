import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunConfigInput } from '@vtrain/protocol';
import { TestCoordinator } from '@vtrain/coordinator/harness';
import type { RealtimeResult, RealtimeRun } from './realtime-types.js';

/**
 * Real-time mode: the real coordinator and real headless worker processes for
 * a fixed wall time per schedule, to check the simulation's ordering. Speed
 * spread comes from the worker's duty cycle (a worker at 0.25 computes a
 * quarter of the time: 4x slower), the only throttle the CLI offers; the
 * processes share this machine's cores, so absolute speeds are whatever the
 * machine gives.
 */
export async function runRealtimeBench(
  suite: string,
  log: (line: string) => void,
): Promise<RealtimeResult> {
  const seconds = suite === 'quick' ? 30 : 60;
  const dutyCycles = [1, 0.66, 0.5, 0.25];
  const schedules: { key: string; schedule: RunConfigInput['schedule'] }[] = [
    { key: 'sync', schedule: { kind: 'sync' } },
    { key: 'async', schedule: { kind: 'async' } },
    {
      key: 'hybrid-linear',
      schedule: {
        kind: 'hybrid',
        threshold: { shape: 'linear', clock: 'time', horizon: (seconds * 1000) / 2 },
      },
    },
  ];
  const require = createRequire(import.meta.url);
  const cli = require.resolve('@vtrain/worker/cli');
  const runs: RealtimeRun[] = [];
  for (const { key, schedule } of schedules) {
    const server = await TestCoordinator.start();
    const children: ChildProcess[] = [];
    try {
      const runId = await server.createRun({
        name: `realtime ${key}`,
        model: { kind: 'mlp', hiddenUnits: [128] },
        training: { batchSize: 32, workerOptimizer: { kind: 'sgd', learningRate: 0.2 } },
        compression: { density: 0.01, errorFeedback: true },
        schedule,
        evaluation: { everyVersions: 100_000, testExamples: 2000 },
        stop: { maxSeconds: 3600 },
      });
      for (const duty of dutyCycles) {
        children.push(
          spawn(
            process.execPath,
            [cli, '--url', server.url, '--duty-cycle', String(duty), '--quiet'],
            { stdio: ['ignore', 'ignore', 'inherit'] },
          ),
        );
      }
      await sleep(seconds * 1000);
      const stopped = await server.api(`/api/runs/${runId}/stop`, { method: 'POST' });
      if (stopped.status !== 200) throw new Error(`stop failed: ${stopped.status}`);
      const summary = await server.run(runId);
      const latest = summary.latest;
      const run: RealtimeRun = {
        schedule: key,
        seconds,
        finalAccuracy: latest?.testAccuracy ?? null,
        versions: summary.version,
        updatesApplied: latest?.updatesApplied ?? 0,
        samples: latest?.samples ?? 0,
      };
      log(
        `  realtime ${key}: accuracy ${run.finalAccuracy === null ? 'n/a' : run.finalAccuracy.toFixed(4)}, ${run.versions} versions, ${run.updatesApplied} updates`,
      );
      runs.push(run);
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await server.stop();
    }
  }
  return {
    description: `Real coordinator (in the bench process) and ${dutyCycles.length} \`vtrain-worker\` processes with duty cycles ${dutyCycles.join(', ')} (a 1x-4x spread), ${seconds} s of wall time per schedule, MLP 784-128-10, batch 32, lr 0.2, 1% top-k with error feedback; the hybrid's linear threshold reaches K = N at half the time. Accuracy is the coordinator's final evaluation when the run is stopped (the whole MNIST test set). One run per schedule: wall-clock runs on a shared machine are not repeatable, so this checks the ordering only.`,
    workers: dutyCycles.length,
    dutyCycles,
    runs,
  };
}
