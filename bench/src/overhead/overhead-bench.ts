import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
const TOKEN = 'overhead-bench-token';

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

/**
 * CPU time (user + system) a process has used so far, in ms, from Linux's
 * /proc/PID/stat (fields 14 and 15, in clock ticks of 10 ms); undefined elsewhere.
 * CPU time per sample does not depend on how many other processes share the
 * cores, which wall-clock samples/s does.
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU ms per 1000 samples of the worker and of the coordinator over a counting window. */
export interface CpuPerSamples {
  readonly worker: number;
  readonly coordinator: number;
}

/** What {@link workerSamplesPerSecond} measured. */
interface WorkerMeasurement {
  readonly samplesPerSecond: number;
  /** Undefined where /proc is not there. */
  readonly cpu?: CpuPerSamples;
}

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
  run: RunConfigInput,
  coordinatorPid: number | undefined,
): Promise<WorkerMeasurement> {
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
    const cpuFirst = [processCpuMs(child.pid), processCpuMs(coordinatorPid)];
    await sleep(seconds * 1000);
    let last = await latest();
    // A point written after the window (points come every 2 s).
    while (last !== undefined && first !== undefined && last.at - first.at < seconds * 1000) {
      await sleep(250);
      last = await latest();
    }
    const cpuLast = [processCpuMs(child.pid), processCpuMs(coordinatorPid)];
    if (first === undefined || last === undefined) throw new Error('no metrics points');
    const samples = last.samples - first.samples;
    const [w0, c0] = cpuFirst;
    const [w1, c1] = cpuLast;
    const cpu =
      w0 === undefined || c0 === undefined || w1 === undefined || c1 === undefined || samples <= 0
        ? undefined
        : { worker: ((w1 - w0) * 1000) / samples, coordinator: ((c1 - c0) * 1000) / samples };
    return {
      samplesPerSecond: samples / ((last.at - first.at) / 1000),
      ...(cpu === undefined ? {} : { cpu }),
    };
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
  const bareRun = () => bareLoopSamplesPerSecond(train, HIDDEN, BATCH, seconds);
  const demoBareRun = () =>
    bareLoopSamplesPerSecond(train, HIDDEN, DEMO_BATCH, seconds, DEMO_OPTIMIZER);
  const cpuLine = (label: string, cpu: CpuPerSamples | undefined) => {
    if (cpu !== undefined) {
      log(
        `    ${label}: CPU ms per 1000 samples: worker ${cpu.worker.toFixed(0)}, coordinator ${cpu.coordinator.toFixed(0)}`,
      );
    }
  };
  const bareFirst = await bareRun();
  const bareBefore = bareFirst.samplesPerSecond;
  log(
    `  bare tfjs loop (${backend}, SGD, batch ${BATCH}): ${bareBefore.toFixed(0)} samples/s (CPU ms per 1000 samples: ${bareFirst.cpuMsPer1000Samples.toFixed(0)})`,
  );
  const demoBareFirst = await demoBareRun();
  const demoBareBefore = demoBareFirst.samplesPerSecond;
  log(
    `  bare tfjs loop (${backend}, ${DEMO_OPTIMIZER.kind}, batch ${DEMO_BATCH}): ${demoBareBefore.toFixed(0)} samples/s (CPU ms per 1000 samples: ${demoBareFirst.cpuMsPer1000Samples.toFixed(0)})`,
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-overhead-'));
  const coordinator = await spawnCoordinator({ port, dataDir, token: TOKEN });
  let worker: WorkerMeasurement;
  let local: WorkerMeasurement;
  let demo: WorkerMeasurement;
  let baseline: WorkerMeasurement | undefined;
  let demoBaseline: WorkerMeasurement | undefined;
  const baselineCli = process.env[BASELINE_CLI_ENV];
  try {
    const cli = createRequire(import.meta.url).resolve('@vtrain/worker/cli');
    const pid = coordinator.pid;
    worker = await workerSamplesPerSecond(url, cli, seconds, RUN, pid);
    log(`  headless worker: ${worker.samplesPerSecond.toFixed(0)} samples/s`);
    cpuLine('async', worker.cpu);
    local = await workerSamplesPerSecond(url, cli, seconds, LOCAL_RUN, pid);
    log(
      `  headless worker, ${LOCAL_STEPS} local steps per update: ${local.samplesPerSecond.toFixed(0)} samples/s`,
    );
    cpuLine(`H = ${LOCAL_STEPS}`, local.cpu);
    demo = await workerSamplesPerSecond(url, cli, demoSeconds, DEMO_BENCH_RUN, pid);
    log(
      `  headless worker, demo run (${DEMO_LOCAL_STEPS} ${DEMO_OPTIMIZER.kind} steps of ${DEMO_BATCH} per update): ${demo.samplesPerSecond.toFixed(0)} samples/s`,
    );
    cpuLine('demo run', demo.cpu);
    if (baselineCli !== undefined && baselineCli !== '') {
      baseline = await workerSamplesPerSecond(url, baselineCli, seconds, RUN, pid);
      log(`  baseline worker (${baselineCli}): ${baseline.samplesPerSecond.toFixed(0)} samples/s`);
      cpuLine('baseline, async', baseline.cpu);
      demoBaseline = await workerSamplesPerSecond(
        url,
        baselineCli,
        demoSeconds,
        DEMO_BENCH_RUN,
        pid,
      );
      log(`  baseline worker, demo run: ${demoBaseline.samplesPerSecond.toFixed(0)} samples/s`);
      cpuLine('baseline, demo run', demoBaseline.cpu);
    }
  } finally {
    await killHard(coordinator);
    await rm(dataDir, { recursive: true, force: true });
  }
  const bareLast = await bareRun();
  const bareAfter = bareLast.samplesPerSecond;
  log(
    `  bare tfjs loop again: ${bareAfter.toFixed(0)} samples/s (CPU ms per 1000 samples: ${bareLast.cpuMsPer1000Samples.toFixed(0)})`,
  );
  const demoBareLast = await demoBareRun();
  const demoBareAfter = demoBareLast.samplesPerSecond;
  log(
    `  bare tfjs loop (${DEMO_OPTIMIZER.kind}) again: ${demoBareAfter.toFixed(0)} samples/s (CPU ms per 1000 samples: ${demoBareLast.cpuMsPer1000Samples.toFixed(0)})`,
  );
  const bare = (bareBefore + bareAfter) / 2;
  const demoBare = (demoBareBefore + demoBareAfter) / 2;
  const bareCpu = (bareFirst.cpuMsPer1000Samples + bareLast.cpuMsPer1000Samples) / 2;
  const demoBareCpu = (demoBareFirst.cpuMsPer1000Samples + demoBareLast.cpuMsPer1000Samples) / 2;
  const loadAfter = loadavg()[0];
  log(
    `  load average (1 min) ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)} on ${availableParallelism()} cores`,
  );
  const ratioLine = (label: string, w: WorkerMeasurement, wall: number, cpu: number) => {
    log(
      `  ${label} worker / bare: ${((100 * w.samplesPerSecond) / wall).toFixed(0)}%${w.cpu === undefined ? '' : ` (CPU per sample, bare / worker: ${((100 * cpu) / w.cpu.worker).toFixed(0)}%; bare / (worker + coordinator): ${((100 * cpu) / (w.cpu.worker + w.cpu.coordinator)).toFixed(0)}%)`}`,
    );
  };
  ratioLine(
    `demo run (H = ${DEMO_LOCAL_STEPS}, ${DEMO_OPTIMIZER.kind}, batch ${DEMO_BATCH})`,
    demo,
    demoBare,
    demoBareCpu,
  );
  ratioLine(`async 1% top-k, H = 1 (SGD, batch ${BATCH})`, worker, bare, bareCpu);
  ratioLine(`local SGD, H = ${LOCAL_STEPS} (SGD, batch ${BATCH})`, local, bare, bareCpu);
  if (baseline !== undefined) ratioLine('baseline, async', baseline, bare, bareCpu);
  if (demoBaseline !== undefined)
    ratioLine('baseline, demo run', demoBaseline, demoBare, demoBareCpu);
  return {
    description: `MLP 784-${HIDDEN.join('-')}-10, batch ${BATCH}, tfjs ${backend} backend in Node. Bare loop: ${seconds} s after a 2 s warm-up, in the bench process, once before and once after the worker (the reference is their mean). Worker: one \`vtrain-worker\` process against the coordinator in its own process (\`node dist/main.js\`; asynchronous run, 1% top-k with error feedback, SGD, batch ${BATCH}), samples counted by the coordinator between two of its metrics points about ${seconds} s apart, after a warm-up. Demo run: the demo run's worker side (local SGD, ${DEMO_LOCAL_STEPS} Adam steps of batch ${DEMO_BATCH} per update; the coordinator evaluates rarely), against a bare loop with \`tf.train.adam\` at the same batch, counted over about ${demoSeconds} s. Machine: ${availableParallelism()} cores, 1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after (other processes share the cores, so absolute rates vary between runs, and within one when the load moves: the two bare runs bracket the worker's).`,
    bareSamplesPerSecond: bare,
    bareBeforeSamplesPerSecond: bareBefore,
    bareAfterSamplesPerSecond: bareAfter,
    workerSamplesPerSecond: worker.samplesPerSecond,
    ratio: worker.samplesPerSecond / bare,
    localSteps: LOCAL_STEPS,
    localStepsWorkerSamplesPerSecond: local.samplesPerSecond,
    localStepsRatio: local.samplesPerSecond / bare,
    demo: {
      label: `the demo run: local SGD, ${DEMO_LOCAL_STEPS} ${DEMO_OPTIMIZER.kind === 'adam' ? 'Adam' : 'SGD'} steps of batch ${DEMO_BATCH} per update, ${DEMO_RUN.compression?.density ?? 0.01} top-k with error feedback in ${DEMO_RUN.compression?.valueFormat ?? 'f32'}`,
      localSteps: DEMO_LOCAL_STEPS,
      batchSize: DEMO_BATCH,
      seconds: demoSeconds,
      bareSamplesPerSecond: demoBare,
      bareBeforeSamplesPerSecond: demoBareBefore,
      bareAfterSamplesPerSecond: demoBareAfter,
      workerSamplesPerSecond: demo.samplesPerSecond,
      ratio: demo.samplesPerSecond / demoBare,
      ...(demoBaseline === undefined
        ? {}
        : {
            baselineWorkerSamplesPerSecond: demoBaseline.samplesPerSecond,
            baselineRatio: demoBaseline.samplesPerSecond / demoBare,
          }),
    },
    ...(baseline === undefined
      ? {}
      : {
          baselineWorkerSamplesPerSecond: baseline.samplesPerSecond,
          baselineRatio: baseline.samplesPerSecond / bare,
          baselineLabel: process.env[BASELINE_LABEL_ENV] ?? 'another build',
        }),
  };
}
