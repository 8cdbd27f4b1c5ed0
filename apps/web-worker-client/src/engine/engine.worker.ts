/**
 * The contribute page's training engine, in a dedicated Web Worker so the page
 * stays responsive and a hidden tab keeps training. It runs the same
 * `WorkerSession` + `TrainingEngine` as the headless Node worker; what is
 * browser-specific is only the host adapter here: backend choice, the shard
 * cache, and the page's messages.
 */
import * as tf from '@tensorflow/tfjs';
import {
  modelNeedsConvolution,
  WorkerSession,
  type BackendChoice,
  type WorkerStatus,
} from '@vtrain/worker';
import type { Assignment } from '@vtrain/protocol';
import { BROWSER_BACKENDS, browserCapabilities } from './browser-backends.js';
import { chooseBackend } from './choose-backend.js';
import type { EngineEvent } from './engine-messages.js';
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

/** The wasm backend lacks tfjs's convolution gradients; a CNN run falls back to the CPU. */
async function backendFor(assignment: Assignment, current: BackendChoice): Promise<BackendChoice> {
  if (current.name !== 'wasm' || !modelNeedsConvolution(assignment.model)) return current;
  const cpu = await chooseBackend(BROWSER_BACKENDS.filter((b) => b.name === 'cpu'));
  const why = 'wasm: lacks the convolution gradient kernels this model needs';
  return {
    name: cpu.name,
    reason: current.reason === undefined ? why : `${current.reason}; ${why}`,
  };
}

async function start(url: string): Promise<void> {
  let backend = await chooseBackend(BROWSER_BACKENDS);
  const created = new WorkerSession({
    url,
    client: { kind: 'browser', description: globalThis.navigator.userAgent },
    backend,
    fetchBytes: (shardUrl) => shardCache.fetchBytes(shardUrl),
    capabilities: await browserCapabilities(),
    dutyCycle,
    prepareBackend: async (assignment) => (backend = await backendFor(assignment, backend)),
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
      starting = start(command.url).catch((error: unknown) => {
        post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      });
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
