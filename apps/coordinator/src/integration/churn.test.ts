import { useFastestNodeBackend } from '@vtrain/ml/node';
import type { RunConfigInput, UpdatePush } from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { mulberry32 } from '@vtrain/optimizer';
import { TestCoordinator, waitFor } from './harness.js';
import { HELLO, connectRawWorker } from './raw-worker.js';
import { startSimWorker, type SimWorker } from './sim-worker.js';

/*
 * Churn, short version (the long soak is bench/churn-soak.ts): two steady
 * workers and three that keep leaving and coming back (with their identity,
 * or as new ones), in synchronous and hybrid runs. No round deadlocks, every
 * accepted update is applied exactly once (a replay after a reconnect is a
 * `duplicate`), and the model keeps improving.
 */

const STEADY = 2;
const CHURNERS = 3;
/** bench/soak.sh raises it for the long variant (several minutes of churn). */
const TARGET_VERSION = Number(process.env.SOAK_CHURN_VERSIONS ?? 150);
const TIMEOUT_MS = Math.max(300_000, TARGET_VERSION * 4000);

function run(schedule: RunConfigInput['schedule']): RunConfigInput {
  return {
    name: `churn ${schedule.kind}`,
    dataset: { name: 'synthetic', shards: 5 },
    model: { kind: 'mlp', hiddenUnits: [16] },
    training: { batchSize: 32, workerOptimizer: { kind: 'sgd', learningRate: 0.1 } },
    compression: { density: 0.1, errorFeedback: true },
    schedule,
    evaluation: { everyVersions: 40, testExamples: 500 },
    stop: { maxSeconds: 600 },
  };
}

const schedules: [string, RunConfigInput['schedule']][] = [
  ['synchronous', { kind: 'sync', deadline: { minMs: 2000, maxMs: 5000 } }],
  [
    'hybrid',
    {
      kind: 'hybrid',
      threshold: { shape: 'linear', clock: 'updates', horizon: 200 },
      deadline: { minMs: 2000, maxMs: 5000 },
    },
  ],
];

/** Sends an accepted update again on a new connection under the same identity. */
async function replay(
  url: string,
  identity: { workerId: string; secret: string },
  update: UpdatePush,
): Promise<string> {
  const socket = await connectRawWorker(url);
  try {
    await socket.emitWithAck('hello', { ...HELLO, resume: identity });
    const reply = await socket.emitWithAck('update', update);
    return reply.type === 'reject' ? reply.reason : reply.type;
  } finally {
    socket.disconnect();
  }
}

describe('churn', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    await useFastestNodeBackend();
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it.each(schedules.map(([label, schedule]) => ({ label, schedule })))(
    '$label: workers come and go, no deadlock, every accepted update applied once',
    async ({ schedule }) => {
      const id = await coordinator.createRun(run(schedule));
      const live = coordinator.coordinator.manager.liveRun(id);
      if (!live) throw new Error('run not live');
      // Stopped even when an assertion fails, so no later case's worker joins this run.
      onTestFinished(async () => {
        await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
      });
      const random = mulberry32(5);
      let accepted = 0;
      let sessions = 0;
      let replays = 0;
      let duplicates = 0;
      const finished: SimWorker[] = [];
      const steady = await Promise.all(
        Array.from({ length: STEADY }, (_, i) => startSimWorker(coordinator.url, { seed: i + 1 })),
      );

      const churner = async (index: number): Promise<void> => {
        let identity: { workerId: string; secret: string } | undefined;
        let nextSeq = 0;
        while (live.engine.version < TARGET_VERSION) {
          // Come back as the same identity half the time, as a new volunteer otherwise.
          const resume = identity !== undefined && random() < 0.5 ? identity : undefined;
          const worker = await startSimWorker(coordinator.url, {
            seed: 100 * index + sessions++,
            maxAccepted: 2 + Math.floor(random() * 8),
            ...(resume ? { resume, firstSeq: nextSeq } : {}),
          });
          await worker.done;
          finished.push(worker);
          accepted += worker.accepted;
          const last = worker.lastAccepted;
          identity = worker.identity;
          nextSeq = worker.nextSeq;
          if (last && random() < 0.5) {
            // A retry after a reconnect, as a worker whose ack was lost would send it.
            replays += 1;
            const answer = await replay(coordinator.url, worker.identity, last);
            if (answer === 'duplicate') duplicates += 1;
            else console.log(`a replay was answered ${answer}`);
          }
          await new Promise((resolve) => setTimeout(resolve, random() * 500));
        }
      };

      try {
        await Promise.all(Array.from({ length: CHURNERS }, (_, i) => churner(i)));
      } finally {
        await Promise.all(steady.map((w) => w.stop()));
      }
      accepted += steady.reduce((sum, w) => sum + w.accepted, 0);
      for (const worker of [...steady, ...finished]) expect(worker.failure).toBeUndefined();

      // Once everyone left, the open batch is flushed (at the latest at its deadline):
      // the coordinator then applied exactly the updates it accepted.
      await waitFor('every accepted update applied', 30_000, () =>
        Promise.resolve(live.engine.counters.updatesApplied === accepted ? true : undefined),
      ).catch(() => undefined);
      const applied = live.engine.counters.updatesApplied;
      const buffered = [...steady, ...finished].reduce((sum, w) => sum + w.buffered, 0);
      const rejected = JSON.stringify(live.engine.counters.updatesRejected);
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
      const evaluated = (await coordinator.metrics(id)).filter((p) => p.testAccuracy !== undefined);
      const first = evaluated[0]?.testAccuracy ?? 0;
      const final = evaluated.at(-1)?.testAccuracy ?? 0;
      console.log(
        `churn ${schedule.kind}: ${sessions} churn sessions, version ${live.engine.version}, ` +
          `${accepted} updates accepted (${buffered} of them buffered first), ${applied} applied, ` +
          `${duplicates}/${replays} replays refused as duplicate, rejected ${rejected}; ` +
          `accuracy ${first.toFixed(3)} -> ${final.toFixed(3)}`,
      );
      expect(applied).toBe(accepted);
      expect(duplicates).toBe(replays);
      expect(live.engine.version).toBeGreaterThanOrEqual(TARGET_VERSION);
      expect(final).toBeGreaterThan(first + 0.25);
    },
    TIMEOUT_MS,
  );
});
