import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadMnist, useFastestNodeBackend } from '@vtrain/ml/node';
import { freePort, killHard, spawnCoordinator } from '@vtrain/coordinator/coordinator-process';
import { DEMO_RUN } from '@vtrain/coordinator/demo-run';
import type { WorkerOptimizerConfig } from '@vtrain/optimizer';
import { TrainingConfigSchema, type MetricsPoint, type RunConfigInput } from '@vtrain/protocol';
import { bareLoopSamplesPerSecond } from './bare-loop.js';
import type { OverheadResult } from './overhead-types.js';

const HIDDEN = [128];
const BATCH = 32;
const TOKEN = 'overhead-bench';

/**
 * Another build's worker CLI to measure in the same run, e.g. the main branch's
 * `packages/worker/dist/cli.js`, for a before/after figure on one machine at one load.
 */
const BASELINE_CLI_ENV = 'VTRAIN_OVERHEAD_BASELINE_CLI';
/** What the report calls that build, e.g. "main at 67ad429". */
const BASELINE_LABEL_ENV = 'VTRAIN_OVERHEAD_BASELINE_LABEL';

const RUN: RunConfigInput = {
  name: 'worker overhead',
  model: { kind: 'mlp', hiddenUnits: HIDDEN },
  training: { batchSize: BATCH },
  compression: { density: 0.01, errorFeedback: true },
  schedule: { kind: 'async' },
  evaluation: { everyVersions: 1_000_000, testExamples: 500 },
  stop: { maxSeconds: 3600 },
};

/** The same with H local SGD steps per update (one worker: every round is its own update). */
const LOCAL_STEPS = 4;
const LOCAL_RUN: RunConfigInput = {
  ...RUN,
  name: `worker overhead, H = ${LOCAL_STEPS}`,
  schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: LOCAL_STEPS } },
};

/**
 * The demo run's worker side (apps/coordinator/src/demo-run.ts): local SGD with 50 Adam
 * steps of batch 64 per update, 3% top-k in f16. Only the evaluation differs (rare here,
 * as in RUN, so the coordinator takes as little CPU from the worker as it can).
 */
const DEMO_BENCH_RUN: RunConfigInput = {
  ...DEMO_RUN,
  name: 'worker overhead, demo run',
  evaluation: RUN.evaluation,
  stop: RUN.stop,
};
/** The demo run's training config with the schema's defaults (Adam's betas and epsilon). */
const DEMO_TRAINING = TrainingConfigSchema.parse(DEMO_RUN.training);
const DEMO_BATCH = DEMO_TRAINING.batchSize;
const DEMO_OPTIMIZER: WorkerOptimizerConfig = DEMO_TRAINING.workerOptimizer;
const DEMO_LOCAL_STEPS =
  DEMO_RUN.schedule.kind === 'local-sgd' && DEMO_RUN.schedule.period.rule === 'fixed'
    ? DEMO_RUN.schedule.period.steps
    : 0;

/** The coordinator's HTTP API, as a researcher. */
function api(url: string) {
  return async <T>(path: string, method = 'GET', body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };
}

/**
 * Samples/s of one worker process (`cli`) on a fresh run of `url`, counted by the
 * coordinator: the difference of two of its metrics points (written every 2 s, each
 * stamped with the coordinator's clock) about `seconds` apart, after a warm-up.
 */
async function workerSamplesPerSecond(
  url: string,
  cli: string,
  seconds: number,
  run: RunConfigInput = RUN,
): Promise<number> {
  const call = api(url);
  const { id } = await call<{ id: string }>('/api/runs', 'POST', run);
  const child = spawn(process.execPath, [cli, '--url', url, '--quiet'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const latest = async (): Promise<MetricsPoint | undefined> =>
      (await call<MetricsPoint[]>(`/api/runs/${id}/metrics`)).at(-1);
    // Warm-up: connect, shard download, first pulls, wasm start-up, JIT.
    const deadline = performance.now() + 60_000;
    while (((await latest())?.samples ?? 0) === 0) {
      if (performance.now() > deadline) throw new Error(`${cli} trained nothing in 60 s`);
      await sleep(500);
    }
    await sleep(3000);
    const first = await latest();
    await sleep(seconds * 1000);
    let last = await latest();
    // A point written after the window (points come every 2 s).
    while (last !== undefined && first !== undefined && last.at - first.at < seconds * 1000) {
      await sleep(250);
      last = await latest();
    }
    if (first === undefined || last === undefined) throw new Error('no metrics points');
    return (last.samples - first.samples) / ((last.at - first.at) / 1000);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await call(`/api/runs/${id}/stop`, 'POST').catch(() => undefined);
  }
}

/**
 * Worker overhead: samples/s of one headless `vtrain-worker` process training
 * against the real coordinator in a third process (`node dist/main.js`, as
 * production runs it; asynchronous run, 1% top-k with error feedback, the whole
 * protocol: pull, gradients, top-k, encode, update, ack with weights), against the
 * bare tfjs loop of `bare-loop.ts` in this process, same wasm backend, model and
 * batch. The bare loop runs before and after the worker (the mean is the reference,
 * both are reported, so drifting load on the machine shows). The coordinator
 * evaluates rarely so that it takes as little CPU as it can from the worker.
 */
export async function runOverheadBench(
  suite: string,
  log: (line: string) => void,
): Promise<OverheadResult> {
  const seconds = suite === 'quick' ? 10 : 20;
  // A demo update is 3200 samples (one to a few seconds) and the coordinator counts whole
  // updates between metrics points 2 s apart: a longer window keeps that granularity to
  // a few per cent.
  const demoSeconds = 6 * seconds;
  const loadBefore = loadavg()[0];
  const backend = await useFastestNodeBackend();
  const { train } = await loadMnist();
  const bareBefore = await bareLoopSamplesPerSecond(train, HIDDEN, BATCH, seconds);
  log(`  bare tfjs loop (${backend}, SGD, batch ${BATCH}): ${bareBefore.toFixed(0)} samples/s`);
  const demoBareBefore = await bareLoopSamplesPerSecond(
    train,
    HIDDEN,
    DEMO_BATCH,
    seconds,
    DEMO_OPTIMIZER,
  );
  log(
    `  bare tfjs loop (${backend}, ${DEMO_OPTIMIZER.kind}, batch ${DEMO_BATCH}): ${demoBareBefore.toFixed(0)} samples/s`,
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-overhead-'));
  const coordinator = await spawnCoordinator({ port, dataDir, token: TOKEN });
  let worker: number;
  let local: number;
  let demo: number;
  let baseline: number | undefined;
  let demoBaseline: number | undefined;
  const baselineCli = process.env[BASELINE_CLI_ENV];
  try {
    const cli = createRequire(import.meta.url).resolve('@vtrain/worker/cli');
    worker = await workerSamplesPerSecond(url, cli, seconds);
    log(`  headless worker: ${worker.toFixed(0)} samples/s`);
    local = await workerSamplesPerSecond(url, cli, seconds, LOCAL_RUN);
    log(`  headless worker, ${LOCAL_STEPS} local steps per update: ${local.toFixed(0)} samples/s`);
    demo = await workerSamplesPerSecond(url, cli, demoSeconds, DEMO_BENCH_RUN);
    log(
      `  headless worker, demo run (${DEMO_LOCAL_STEPS} ${DEMO_OPTIMIZER.kind} steps of ${DEMO_BATCH} per update): ${demo.toFixed(0)} samples/s`,
    );
    if (baselineCli !== undefined && baselineCli !== '') {
      baseline = await workerSamplesPerSecond(url, baselineCli, seconds);
      log(`  baseline worker (${baselineCli}): ${baseline.toFixed(0)} samples/s`);
      demoBaseline = await workerSamplesPerSecond(url, baselineCli, demoSeconds, DEMO_BENCH_RUN);
      log(`  baseline worker (${baselineCli}), demo run: ${demoBaseline.toFixed(0)} samples/s`);
    }
  } finally {
    await killHard(coordinator);
    await rm(dataDir, { recursive: true, force: true });
  }
  const bareAfter = await bareLoopSamplesPerSecond(train, HIDDEN, BATCH, seconds);
  log(`  bare tfjs loop again: ${bareAfter.toFixed(0)} samples/s`);
  const demoBareAfter = await bareLoopSamplesPerSecond(
    train,
    HIDDEN,
    DEMO_BATCH,
    seconds,
    DEMO_OPTIMIZER,
  );
  log(`  bare tfjs loop (${DEMO_OPTIMIZER.kind}) again: ${demoBareAfter.toFixed(0)} samples/s`);
  const bare = (bareBefore + bareAfter) / 2;
  const demoBare = (demoBareBefore + demoBareAfter) / 2;
  const loadAfter = loadavg()[0];
  log(
    `  load average (1 min) ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)} on ${availableParallelism()} cores`,
  );
  log(
    `  demo run (H = ${DEMO_LOCAL_STEPS}, ${DEMO_OPTIMIZER.kind}, batch ${DEMO_BATCH}) worker / bare: ${((100 * demo) / demoBare).toFixed(0)}%`,
  );
  log(
    `  async 1% top-k, H = 1 (SGD, batch ${BATCH}) worker / bare: ${((100 * worker) / bare).toFixed(0)}%`,
  );
  log(`  worker with ${LOCAL_STEPS} local steps / bare: ${((100 * local) / bare).toFixed(0)}%`);
  if (baseline !== undefined) log(`  baseline / bare: ${((100 * baseline) / bare).toFixed(0)}%`);
  if (demoBaseline !== undefined) {
    log(`  baseline / bare, demo run: ${((100 * demoBaseline) / demoBare).toFixed(0)}%`);
  }
  return {
    description: `MLP 784-${HIDDEN.join('-')}-10, batch ${BATCH}, tfjs ${backend} backend in Node. Bare loop: ${seconds} s after a 2 s warm-up, in the bench process, once before and once after the worker (the reference is their mean). Worker: one \`vtrain-worker\` process against the coordinator in its own process (\`node dist/main.js\`; asynchronous run, 1% top-k with error feedback, SGD, batch ${BATCH}), samples counted by the coordinator between two of its metrics points about ${seconds} s apart, after a warm-up. Demo run: the demo run's worker side (local SGD, ${DEMO_LOCAL_STEPS} Adam steps of batch ${DEMO_BATCH} per update; the coordinator evaluates rarely), against a bare loop with \`tf.train.adam\` at the same batch, counted over about ${demoSeconds} s. Machine: ${availableParallelism()} cores, 1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after (other processes share the cores, so absolute rates vary between runs, and within one when the load moves: the two bare runs bracket the worker's).`,
    bareSamplesPerSecond: bare,
    bareBeforeSamplesPerSecond: bareBefore,
    bareAfterSamplesPerSecond: bareAfter,
    workerSamplesPerSecond: worker,
    ratio: worker / bare,
    localSteps: LOCAL_STEPS,
    localStepsWorkerSamplesPerSecond: local,
    localStepsRatio: local / bare,
    demo: {
      label: `the demo run: local SGD, ${DEMO_LOCAL_STEPS} ${DEMO_OPTIMIZER.kind === 'adam' ? 'Adam' : 'SGD'} steps of batch ${DEMO_BATCH} per update, ${DEMO_RUN.compression?.density ?? 0.01} top-k with error feedback in ${DEMO_RUN.compression?.valueFormat ?? 'f32'}`,
      localSteps: DEMO_LOCAL_STEPS,
      batchSize: DEMO_BATCH,
      seconds: demoSeconds,
      bareSamplesPerSecond: demoBare,
      bareBeforeSamplesPerSecond: demoBareBefore,
      bareAfterSamplesPerSecond: demoBareAfter,
      workerSamplesPerSecond: demo,
      ratio: demo / demoBare,
      ...(demoBaseline === undefined
        ? {}
        : { baselineWorkerSamplesPerSecond: demoBaseline, baselineRatio: demoBaseline / demoBare }),
    },
    ...(baseline === undefined
      ? {}
      : {
          baselineWorkerSamplesPerSecond: baseline,
          baselineRatio: baseline / bare,
          baselineLabel: process.env[BASELINE_LABEL_ENV] ?? 'another build',
        }),
  };
}
