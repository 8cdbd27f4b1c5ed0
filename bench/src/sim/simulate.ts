import { RunEngine, type EngineEffects } from '@vtrain/coordinator/run-engine';
import { buildModel, DATASET_INFO, weightsHash } from '@vtrain/ml';
import { mulberry32 } from '@vtrain/optimizer';
import {
  decodeSparseUpdate,
  encodedDenseWeightsSize,
  RunConfigSchema,
  type Assignment,
  type ModelSpec,
  type RejectReason,
  type RunConfig,
  type RunConfigInput,
  type SparseVector,
} from '@vtrain/protocol';
import { TrainingEngine } from '@vtrain/worker';
import {
  CoordinatorModel,
  downloadMs,
  workerProfiles,
  WorkerTiming,
  type ClusterSpec,
} from './cluster.js';
import { EventQueue } from './event-queue.js';
import { Evaluator, initialWeights, type TrainingData } from './training-data.js';
import { weightsReply } from './weights-reply.js';

/** Everything that defines one simulated run; the report prints these fields. */
export interface SimulationSpec {
  readonly label: string;
  readonly seed: number;
  readonly cluster: ClusterSpec;
  readonly model: ModelSpec;
  readonly batchSize: number;
  /** Worker SGD learning rate: each update is -learningRate x the gradient (before top-k). */
  readonly learningRate: number;
  /** Server SGD learning rate on each aggregated update; 1 (plain averaging) when absent. */
  readonly serverLearningRate?: number;
  readonly density: number;
  readonly errorFeedback: boolean;
  /**
   * What crosses the wire: `sparse` (default) the sparse codec's bytes and
   * weights patches; `raw-f32` a plain dense baseline, every update and every
   * weights reply the model's raw float32 values (4 bytes per parameter), as a
   * system without sparsification would send. Use with density 1.
   */
  readonly wire?: 'sparse' | 'raw-f32';
  readonly schedule: RunConfigInput['schedule'];
  /** Virtual time budget, ms. */
  readonly budgetMs: number;
  /** Evaluate the global model every this many virtual ms (and at the budget). */
  readonly evalEveryMs: number;
  /** Stop early once test accuracy reaches this (scaling runs measure time to target). */
  readonly stopAtAccuracy?: number;
}

/** One evaluation of the global model. */
export interface CurveSample {
  readonly t: number;
  readonly accuracy: number;
  readonly loss: number;
  readonly version: number;
  readonly k: number;
  readonly localSteps: number | null;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

export interface SimulationResult {
  readonly label: string;
  readonly seed: number;
  readonly curve: readonly CurveSample[];
  readonly finalAccuracy: number;
  readonly finalLoss: number;
  /** Virtual ms at which the run ended (the budget, or the time the target was reached). */
  readonly endedAt: number;
  readonly gradients: number;
  readonly updatesSent: number;
  readonly updatesApplied: number;
  readonly versions: number;
  readonly rejected: Partial<Record<RejectReason, number>>;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly denseUpdateBytes: number;
  readonly patchReplies: number;
  readonly denseReplies: number;
  readonly stalenessCounts: readonly number[];
  readonly parameterCount: number;
  /** Virtual ms the coordinator's thread was busy, and the longest an update queued for it. */
  readonly coordinatorBusyMs?: number;
  readonly coordinatorMaxQueueMs?: number;
}

type SimEvent =
  | {
      /** The update's first byte reaches the coordinator's link. */
      readonly kind: 'update-reaches';
      readonly worker: number;
      readonly life: number;
      readonly update: PendingUpdate;
      /** When the worker's own link has sent its last byte. */
      readonly ownDoneAt: number;
    }
  | {
      /** Fully received: it queues for the coordinator's thread. */
      readonly kind: 'update-received';
      readonly worker: number;
      readonly life: number;
      readonly update: PendingUpdate;
    }
  | {
      /** The coordinator's thread takes it: the run engine's submit. */
      readonly kind: 'update-arrives';
      readonly worker: number;
      readonly life: number;
      readonly update: PendingUpdate;
      readonly decoded: SparseVector;
    }
  | { readonly kind: 'pull-arrives'; readonly worker: number; readonly life: number }
  | {
      readonly kind: 'weights-arrive';
      readonly worker: number;
      readonly life: number;
      readonly weights: Float32Array;
      readonly version: number;
    }
  | { readonly kind: 'tick' }
  | { readonly kind: 'evaluate' }
  | { readonly kind: 'leave'; readonly worker: number }
  | { readonly kind: 'join'; readonly worker: number };

interface PendingUpdate {
  readonly seq: number;
  readonly payload: Uint8Array;
  /** Bytes on the wire (the payload, or 4P for the raw float32 baseline). */
  readonly wireBytes: number;
  readonly baseVersion: number;
  readonly computeMs: number;
  readonly samples: number;
  readonly trainLoss: number;
}

interface VirtualWorker {
  /** Position in the cluster (its profile's index), as the event log reports it. */
  readonly index: number;
  readonly id: string;
  readonly engine: TrainingEngine;
  readonly timing: WorkerTiming;
  /** Bumped on every departure: events of an earlier life are dropped (the tab closed). */
  life: number;
  present: boolean;
  waiting: boolean;
  nextSeq: number;
}

function runConfig(spec: SimulationSpec): RunConfig {
  return RunConfigSchema.parse({
    name: spec.label,
    seed: spec.seed,
    model: spec.model,
    dataset: { name: 'mnist', partition: { kind: 'iid' }, shards: spec.cluster.workers },
    training: {
      batchSize: spec.batchSize,
      workerOptimizer: { kind: 'sgd', learningRate: spec.learningRate },
      serverOptimizer: { kind: 'sgd', learningRate: spec.serverLearningRate ?? 1 },
    },
    compression: { density: spec.density, errorFeedback: spec.errorFeedback, valueFormat: 'f32' },
    schedule: spec.schedule,
    stop: { maxSeconds: spec.budgetMs / 1000 },
  });
}

/**
 * One run of the simulated cluster. Time is virtual (an event queue); every
 * gradient is real: each virtual worker is a real `TrainingEngine` (tfjs
 * gradient at the weights that worker holds, stale ones included, top-k with
 * error feedback, the sparse codec), and the coordinator side is the real
 * `RunEngine` (the optimizer's schedule state machine, aggregation, staleness
 * damping, server optimizer, patch history). Gradients are computed one at a
 * time, in event order, so the result depends only on the spec and the seed.
 */
export async function simulate(
  data: TrainingData,
  spec: SimulationSpec,
): Promise<SimulationResult> {
  const config = runConfig(spec);
  const { cluster } = spec;
  const weights0 = await initialWeights(spec.model, spec.seed);
  const engine = new RunEngine(config, weights0, 0);
  const shards = data.shards(cluster.workers, spec.seed);
  const profiles = workerProfiles(cluster);
  const workers: VirtualWorker[] = [];
  for (const profile of profiles) {
    const assignment: Assignment = {
      runId: 'sim',
      runName: spec.label,
      model: config.model,
      parameterCount: engine.parameterCount,
      dataset: {
        name: 'mnist',
        shardUrl: '/sim',
        shardIndex: profile.index,
        shardCount: cluster.workers,
      },
      training: config.training,
      compression: config.compression,
      localSteps: 1,
      initialWeights: { seed: spec.seed, sha256: weightsHash(weights0) },
    };
    const model = await buildModel(config.model, DATASET_INFO.mnist, spec.seed);
    workers.push({
      index: profile.index,
      id: `w${profile.index}`,
      engine: new TrainingEngine({
        assignment,
        dataset: shards[profile.index],
        model,
        random: mulberry32((spec.seed * 1_000_003 + profile.index * 7_777 + 1) >>> 0),
      }),
      timing: new WorkerTiming(cluster, profile, spec.seed),
      life: 0,
      present: false,
      waiting: false,
      nextSeq: 0,
    });
  }
  const layout = workers[0].engine.layout;
  const denseBytes = encodedDenseWeightsSize({
    tensors: layout.map((slice) => ({
      name: slice.name,
      shape: [...slice.shape],
      data: new Float32Array(slice.size),
    })),
  });
  const evaluator = new Evaluator(
    await buildModel(config.model, DATASET_INFO.mnist, spec.seed),
    data.test,
  );
  const queue = new EventQueue<SimEvent>();
  const curve: CurveSample[] = [];
  const totals = { gradients: 0, sent: 0, bytesUp: 0, bytesDown: 0, patches: 0, denses: 0 };
  const decodeLimits = { maxLength: engine.parameterCount, maxCount: engine.parameterCount };
  const rawF32 = spec.wire === 'raw-f32';
  const coordinator = new CoordinatorModel(cluster);

  const reply = (worker: VirtualWorker, haveVersion: number | undefined, at: number): void => {
    const message = rawF32
      ? { encoding: 'dense' as const, bytes: 4 * engine.parameterCount }
      : weightsReply(engine, haveVersion, denseBytes);
    totals.bytesDown += message.bytes;
    if (message.encoding === 'dense') totals.denses++;
    else totals.patches++;
    // The reply crosses the coordinator's shared link, then the worker's own.
    const sentAt = coordinator.reserveOutbound(at, message.bytes);
    const arrives = Math.max(at + downloadMs(cluster, message.bytes), sentAt + cluster.latencyMs);
    // The worker ends bit-identical to the coordinator's weights at send time
    // (patches carry new values), so the snapshot is what it will hold.
    queue.push(arrives, {
      kind: 'weights-arrive',
      worker: worker.index,
      life: worker.life,
      weights: engine.weights.slice(),
      version: engine.version,
    });
  };

  const handle = (effects: EngineEffects, at: number): void => {
    if (effects.newVersion !== undefined) {
      // A `version` notice goes down, then each waiting worker's pull comes up.
      for (const worker of workers) {
        if (!worker.waiting) continue;
        worker.waiting = false;
        queue.push(at + 2 * cluster.latencyMs, {
          kind: 'pull-arrives',
          worker: worker.index,
          life: worker.life,
        });
      }
    }
    if (effects.wakeAt !== undefined) queue.push(Math.max(at, effects.wakeAt), { kind: 'tick' });
  };

  const startCompute = async (worker: VirtualWorker, at: number): Promise<void> => {
    const localSteps = engine.phase.localSteps ?? 1;
    const computed = await worker.engine.computeUpdate(localSteps);
    totals.gradients += localSteps;
    totals.sent++;
    const wireBytes = rawF32 ? 4 * engine.parameterCount : computed.payload.length;
    totals.bytesUp += wireBytes;
    const computeMs = worker.timing.computeMs(localSteps);
    const update: PendingUpdate = {
      seq: worker.nextSeq++,
      payload: computed.payload,
      wireBytes,
      baseVersion: computed.baseVersion,
      computeMs,
      samples: computed.samples,
      trainLoss: computed.trainLoss,
    };
    const sentAt = at + computeMs;
    queue.push(sentAt + cluster.latencyMs, {
      kind: 'update-reaches',
      worker: worker.index,
      life: worker.life,
      update,
      ownDoneAt: sentAt + cluster.latencyMs + (wireBytes * 1000) / cluster.uploadBytesPerSecond,
    });
  };

  const join = (index: number, at: number): void => {
    const worker = workers[index];
    worker.present = true;
    handle(engine.join(worker.id, at), at);
    queue.push(at + cluster.latencyMs, { kind: 'pull-arrives', worker: index, life: worker.life });
    const uptime = worker.timing.uptimeMs();
    if (Number.isFinite(uptime) && at + uptime < spec.budgetMs) {
      queue.push(at + uptime, { kind: 'leave', worker: index });
    }
  };

  for (let i = 0; i < workers.length; i++) join(i, 0);
  queue.push(0, { kind: 'evaluate' });

  let endedAt = spec.budgetMs;
  try {
    for (;;) {
      const next = queue.pop();
      if (next === undefined || next.at > spec.budgetMs) break;
      const { at, event } = next;
      if (event.kind === 'evaluate') {
        const result = await evaluator.evaluate(engine.weights);
        const phase = engine.phase;
        curve.push({
          t: at,
          accuracy: result.accuracy,
          loss: result.loss,
          version: engine.version,
          k: phase.k,
          localSteps: phase.localSteps ?? null,
          bytesUp: totals.bytesUp,
          bytesDown: totals.bytesDown,
        });
        handle(engine.evaluated(result.loss, at), at);
        if (spec.stopAtAccuracy !== undefined && result.accuracy >= spec.stopAtAccuracy) {
          endedAt = at;
          break;
        }
        const nextEval = Math.min(at + spec.evalEveryMs, spec.budgetMs);
        if (nextEval > at) queue.push(nextEval, { kind: 'evaluate' });
        continue;
      }
      if (event.kind === 'tick') {
        handle(engine.tick(at), at);
        continue;
      }
      if (event.kind === 'join') {
        join(event.worker, at);
        continue;
      }
      const worker = workers[event.worker];
      if (event.kind === 'leave') {
        worker.life++;
        worker.present = false;
        worker.waiting = false;
        handle(engine.leave(worker.id, at), at);
        queue.push(at + cluster.downtimeMs, { kind: 'join', worker: event.worker });
        continue;
      }
      if (event.life !== worker.life || !worker.present) continue;
      switch (event.kind) {
        case 'pull-arrives':
          reply(worker, worker.engine.version, at);
          break;
        case 'weights-arrive':
          worker.engine.setWeights(event.weights, event.version);
          await startCompute(worker, at);
          break;
        case 'update-reaches': {
          const received = coordinator.reserveInbound(at, event.update.wireBytes, event.ownDoneAt);
          queue.push(received, {
            kind: 'update-received',
            worker: event.worker,
            life: event.life,
            update: event.update,
          });
          break;
        }
        case 'update-received': {
          const decoded = decodeSparseUpdate(event.update.payload, decodeLimits);
          queue.push(coordinator.reserveProcessing(at, decoded.indices.length), {
            kind: 'update-arrives',
            worker: event.worker,
            life: event.life,
            update: event.update,
            decoded,
          });
          break;
        }
        case 'update-arrives': {
          const { update, decoded } = event;
          const result = engine.submit(
            {
              workerId: worker.id,
              seq: update.seq,
              baseVersion: update.baseVersion,
              computeMs: update.computeMs,
              samples: update.samples,
              trainLoss: update.trainLoss,
              payloadBytes: update.wireBytes,
            },
            decoded,
            at,
          );
          handle(result, at);
          if (result.verdict.status === 'applied') reply(worker, update.baseVersion, at);
          else if (result.verdict.status === 'buffered') worker.waiting = true;
          // A rejection's ack goes down and the worker's pull comes back up.
          else
            queue.push(at + 2 * cluster.latencyMs, {
              kind: 'pull-arrives',
              worker: event.worker,
              life: worker.life,
            });
          break;
        }
      }
    }
  } finally {
    evaluator.dispose();
    for (const worker of workers) worker.engine.dispose();
  }

  const last = curve.at(-1);
  return {
    label: spec.label,
    seed: spec.seed,
    curve,
    finalAccuracy: last?.accuracy ?? Number.NaN,
    finalLoss: last?.loss ?? Number.NaN,
    endedAt,
    gradients: totals.gradients,
    updatesSent: totals.sent,
    updatesApplied: engine.counters.updatesApplied,
    versions: engine.version,
    rejected: { ...engine.counters.updatesRejected },
    bytesUp: totals.bytesUp,
    bytesDown: totals.bytesDown,
    denseUpdateBytes: 4 * engine.parameterCount,
    patchReplies: totals.patches,
    denseReplies: totals.denses,
    stalenessCounts: [...engine.counters.stalenessCounts],
    parameterCount: engine.parameterCount,
    coordinatorBusyMs: coordinator.busyMs,
    coordinatorMaxQueueMs: coordinator.maxQueueMs,
  };
}
