import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadMnist, useFastestNodeBackend } from '@vtrain/ml/node';
import { TestCoordinator } from '@vtrain/coordinator/harness';
import { bareLoopSamplesPerSecond } from './bare-loop.js';
import type { OverheadResult } from './overhead-types.js';

const HIDDEN = [128];
const BATCH = 32;

/**
 * Worker overhead: samples/s of one headless `vtrain-worker` process training
 * against a real coordinator (asynchronous run, 1% top-k with error feedback,
 * the whole protocol: pull, gradient, top-k, encode, update, ack with weights)
 * against the bare tfjs loop of `bare-loop.ts` in this process, same wasm
 * backend, model and batch. The coordinator evaluates rarely so that it takes
 * as little CPU as it can from the worker.
 */
export async function runOverheadBench(
  suite: string,
  log: (line: string) => void,
): Promise<OverheadResult> {
  const seconds = suite === 'quick' ? 10 : 20;
  const backend = await useFastestNodeBackend();
  const { train } = await loadMnist();
  const bare = await bareLoopSamplesPerSecond(train, HIDDEN, BATCH, seconds);
  log(`  bare tfjs loop (${backend}): ${bare.toFixed(0)} samples/s`);

  const server = await TestCoordinator.start();
  const runId = await server.createRun({
    name: 'worker overhead',
    model: { kind: 'mlp', hiddenUnits: HIDDEN },
    training: { batchSize: BATCH },
    compression: { density: 0.01, errorFeedback: true },
    schedule: { kind: 'async' },
    evaluation: { everyVersions: 1_000_000, testExamples: 500 },
    stop: { maxSeconds: 3600 },
  });
  const require = createRequire(import.meta.url);
  const cli = require.resolve('@vtrain/worker/cli');
  const child = spawn(process.execPath, [cli, '--url', server.url, '--quiet'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    // Warm-up: connect, shard download, first pulls, wasm start-up.
    const samplesAt = async (): Promise<{ samples: number; at: number }> => {
      const summary = await server.run(runId);
      return { samples: summary.latest?.samples ?? 0, at: performance.now() };
    };
    let first = await samplesAt();
    const deadline = performance.now() + 60_000;
    while (first.samples === 0 && performance.now() < deadline) {
      await sleep(500);
      first = await samplesAt();
    }
    await sleep(3000);
    first = await samplesAt();
    await sleep(seconds * 1000);
    // Metrics points are written every 2 s: wait for one after the window.
    await sleep(2100);
    const last = await samplesAt();
    const worker = (last.samples - first.samples) / ((last.at - first.at) / 1000);
    log(`  headless worker: ${worker.toFixed(0)} samples/s`);
    return {
      description: `MLP 784-${HIDDEN.join('-')}-10, batch ${BATCH}, tfjs ${backend} backend in Node. Bare loop: ${seconds} s after a 2 s warm-up, in the bench process. Worker: one \`vtrain-worker\` process against a real coordinator in the bench process (asynchronous run, 1% top-k with error feedback), samples counted by the coordinator over about ${seconds + 2} s after a warm-up (metrics points every 2 s, so the window is approximate).`,
      bareSamplesPerSecond: bare,
      workerSamplesPerSecond: worker,
      ratio: worker / bare,
    };
  } finally {
    child.kill('SIGTERM');
    await server.stop();
  }
}
