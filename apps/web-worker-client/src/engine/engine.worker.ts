/**
 * The contribute page's training engine, in a dedicated Web Worker so the page
 * stays responsive and a hidden tab keeps training. It runs the same
 * `WorkerSession` + `TrainingEngine` as the headless Node worker; what is
 * browser-specific is only the host adapter here: backend choice, the shard
 * cache, and the page's messages.
 *
 * Backend choice: the session says hello on the first backend that
 * initialises (or the one an earlier visit measured fastest); when a run's
 * model arrives, the engine times a few training steps of it on every
 * backend it has and trains on the fastest (probe-backends.ts, decided by
 * pick-backend.ts). A software WebGPU adapter (SwiftShader, no GPU) is often
 * slower than wasm. The page remembers each probe per model and batch size.
 */
import * as tf from '@tensorflow/tfjs';
import {
  modelNeedsConvolution,
  WorkerSession,
  type BackendChoice,
  type WorkerStatus,
} from '@vtrain/worker';
import type { Assignment, Backend } from '@vtrain/protocol';
import {
  BROWSER_BACKENDS,
  browserCapabilities,
  webGpuAdapterDescription,
} from './browser-backends.js';
import { chooseBackend } from './choose-backend.js';
import type { BackendProbeReport, EngineEvent } from './engine-messages.js';
import { pickBackend, probeKey, probeLabel, type BackendMeasurement } from './pick-backend.js';
import { measureBackends } from './probe-backends.js';
import { ShardCache } from './shard-cache.js';
import { engineScope } from './worker-scope.js';

const shardCache = new ShardCache();
let session: WorkerSession | undefined;
let starting: Promise<void> | undefined;
/** Commands that arrive while the backend initialises apply to the session once it exists. */
let paused = false;
let dutyCycle = 1;

function post(event: EngineEvent): void {
  engineScope.postMessage(event);
}

/**
 * Tensors alive between two updates. Counted only when an update is sent (the
 * engine has just finished one and holds only the model and its state) or
 * outside training: other status changes can arrive while a gradient is being
 * read back, when its temporaries are still alive.
 */
let settledTensors = 0;
let sentCounted = -1;

function postSnapshot(status: WorkerStatus): void {
  if (status.state !== 'training' || status.updatesSent !== sentCounted) {
    settledTensors = tf.memory().numTensors;
    sentCounted = status.updatesSent;
  }
  post({
    type: 'snapshot',
    snapshot: { status, tensors: settledTensors, shardCache: shardCache.stats },
  });
}

const WASM_LACKS_CONVOLUTION = 'lacks the convolution gradient kernels this model needs';

/** The backend the page forced, if it did; no probe runs then. */
let forced: Backend | undefined;
/** Probes by `probeKey`: the page's (earlier visits) and this worker's own. */
const probes = new Map<string, BackendProbeReport>();

function candidate(name: Backend) {
  const found = BROWSER_BACKENDS.find((b) => b.name === name);
  if (found === undefined) throw new Error(`unknown backend ${name}`);
  return found;
}

/** Makes `name` the active backend again (after a probe left another one active). */
async function activate(name: Backend): Promise<string | undefined> {
  try {
    return await candidate(name).init();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const forcedReason = (name: Backend) => `forced by the page's ?backend=${name}`;

/** The forced backend, or the cpu when it is wasm and the model needs convolutions. */
async function forcedBackendFor(assignment: Assignment, name: Backend): Promise<BackendChoice> {
  if (name === 'wasm' && modelNeedsConvolution(assignment.model)) {
    const cpu = await chooseBackend([candidate('cpu')]);
    return { name: cpu.name, reason: `${forcedReason(name)}; wasm: ${WASM_LACKS_CONVOLUTION}` };
  }
  const failure = await activate(name);
  if (failure !== undefined) throw new Error(`${name}: ${failure}`);
  return { name, reason: forcedReason(name) };
}

/** Times every backend on the run's model and batch size and keeps the fastest. */
async function probe(
  assignment: Assignment,
  key: string,
  label: string,
): Promise<BackendProbeReport> {
  post({ type: 'probe-started', key, label });
  const convolution = modelNeedsConvolution(assignment.model);
  const skipped: BackendMeasurement[] = convolution
    ? [{ name: 'wasm', outcome: 'failed', reason: WASM_LACKS_CONVOLUTION }]
    : [];
  const adapter = await webGpuAdapterDescription();
  const measured = await measureBackends(
    assignment,
    BROWSER_BACKENDS.filter((b) => !(convolution && b.name === 'wasm')),
  );
  const order = BROWSER_BACKENDS.map((b) => b.name);
  const measurements = [...measured, ...skipped].sort(
    (a, b) => order.indexOf(a.name) - order.indexOf(b.name),
  );
  const choice = pickBackend(measurements, adapter);
  return {
    key,
    label,
    source: 'probed',
    choice,
    measurements,
    ...(adapter === undefined ? {} : { adapter }),
    measuredAt: Date.now(),
  };
}

/**
 * The backend for an assignment: the forced one, else the remembered probe of
 * this model and batch size, else a new probe. Leaves it the active backend.
 */
async function backendFor(assignment: Assignment): Promise<BackendChoice> {
  const key = probeKey(assignment);
  const label = probeLabel(assignment);
  if (forced !== undefined) {
    const choice = await forcedBackendFor(assignment, forced);
    post({
      type: 'probe',
      report: {
        key,
        label,
        source: 'forced',
        choice: { name: choice.name, reason: choice.reason ?? forcedReason(forced) },
        measurements: [],
        measuredAt: Date.now(),
      },
    });
    return choice;
  }
  const remembered = probes.get(key);
  if (remembered !== undefined && (await activate(remembered.choice.name)) === undefined) {
    post({ type: 'probe', report: remembered });
    return remembered.choice;
  }
  const report = await probe(assignment, key, label);
  const failure = await activate(report.choice.name);
  if (failure !== undefined) throw new Error(`${report.choice.name}: ${failure}`);
  // Later runs of the same model in this worker reuse it, as the page's next visit will.
  probes.set(key, { ...report, source: 'cached' });
  post({ type: 'probe', report });
  return report.choice;
}

/** The backend to say hello with, before any run's model is known. */
async function initialBackend(cached: readonly BackendProbeReport[]): Promise<BackendChoice> {
  if (forced !== undefined) {
    const choice = await chooseBackend([candidate(forced)]);
    return { name: choice.name, reason: forcedReason(forced) };
  }
  // The latest probe is the likeliest for this visit's run, too.
  const latest = [...cached].sort((a, b) => b.measuredAt - a.measuredAt)[0];
  if (latest !== undefined && (await activate(latest.choice.name)) === undefined) {
    return {
      name: latest.choice.name,
      reason: `fastest for ${latest.label} when last measured: ${latest.choice.reason}`,
    };
  }
  return chooseBackend(BROWSER_BACKENDS);
}

async function start(
  url: string,
  forceBackend: Backend | undefined,
  cached: readonly BackendProbeReport[],
): Promise<void> {
  forced = forceBackend;
  for (const report of cached) probes.set(report.key, { ...report, source: 'cached' });
  const backend = await initialBackend(cached);
  const created = new WorkerSession({
    url,
    client: { kind: 'browser', description: globalThis.navigator.userAgent },
    backend,
    fetchBytes: (shardUrl) => shardCache.fetchBytes(shardUrl),
    capabilities: await browserCapabilities(),
    dutyCycle,
    prepareBackend: backendFor,
    onStatus: postSnapshot,
    log: (level, message) => {
      if (level !== 'info') post({ type: 'log', level, message });
    },
  });
  session = created;
  if (paused) created.pause();
  created.start();
  postSnapshot(created.status);
}

async function stop(): Promise<void> {
  await starting?.catch(() => undefined);
  await session?.stop();
  post({ type: 'stopped' });
  engineScope.close();
}

engineScope.addEventListener('message', (event) => {
  const command = event.data;
  switch (command.type) {
    case 'start':
      if (starting !== undefined) return;
      dutyCycle = command.dutyCycle;
      starting = start(command.url, command.forceBackend, command.cachedProbes ?? []).catch(
        (error: unknown) => {
          post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
        },
      );
      return;
    case 'pause':
      paused = true;
      session?.pause();
      return;
    case 'resume':
      paused = false;
      session?.resume();
      return;
    case 'set-duty-cycle':
      dutyCycle = command.fraction;
      session?.setDutyCycle(command.fraction);
      return;
    case 'stop':
      void stop();
      return;
  }
});
