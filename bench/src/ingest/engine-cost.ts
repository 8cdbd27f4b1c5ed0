import { WorkerReplicas } from '@vtrain/coordinator/downstream';
import { RunEngine } from '@vtrain/coordinator/run-engine';
import { decodeSparseUpdate, RunConfigSchema } from '@vtrain/protocol';
import { ingestPayload } from './payloads.js';

/** Where a coordinator update's time goes, without sockets: the run engine alone. */
export interface EngineCost {
  /** Mean ms of `RunEngine.submit` (guard, schedule, aggregation, server step, patch history). */
  readonly submitMs: number;
  /**
   * Mean ms of choosing the applied ack's patch (`WorkerReplicas.reply`, B = k: the shared
   * error memory takes the version's change, then the union of the chunks the worker missed).
   */
  readonly patchMs: number;
  readonly updates: number;
}

/**
 * Times the real run engine on the ingest bench's model and payload: 64
 * workers in turn, asynchronous, each update based on the version its
 * worker's previous ack brought (64 versions back, one in flight per worker),
 * so the figure is comparable with the socket measurement. `indexSets`:
 * every worker sends the same coordinates, or each its own (as the socket
 * measurement's two coordinator rows).
 */
export function measureEngineCost(
  parameterCount: number,
  hidden: number,
  density: number,
  indexSets: 'shared' | 'distinct' = 'shared',
): EngineCost {
  const config = RunConfigSchema.parse({
    name: 'engine cost',
    model: { kind: 'mlp', hiddenUnits: [hidden] },
    schedule: { kind: 'async', staleness: { maxStaleness: 100_000 } },
    stop: { maxSeconds: 3600 },
  });
  const engine = new RunEngine(config, new Float32Array(parameterCount), 0);
  const replicas = new WorkerReplicas(
    new Float32Array(parameterCount),
    Math.ceil(density * parameterCount),
  );
  const workers = 64;
  const updates = Array.from({ length: workers }, (_, w) =>
    decodeSparseUpdate(
      ingestPayload(parameterCount, density, indexSets === 'shared' ? 1 : 1000 + w),
      { maxLength: parameterCount, maxCount: parameterCount },
    ),
  );
  const held = new Array<number>(workers).fill(0);
  for (let w = 0; w < workers; w++) engine.join(`w${w}`, 0);
  // The first updates warm the JIT up and let every worker's difference spread (three
  // rounds of all workers) and are not timed: the server runs hot.
  const warmUp = 3 * workers;
  const timed = 200;
  let submitMs = 0;
  let patchMs = 0;
  for (let i = 0; i < warmUp + timed; i++) {
    const worker = i % workers;
    const base = held[worker] ?? 0;
    const update = updates[worker];
    const started = performance.now();
    engine.submit(
      {
        workerId: `w${worker}`,
        seq: i,
        baseVersion: base,
        computeMs: 10,
        samples: 32,
        trainLoss: 1,
        payloadBytes: 0,
      },
      update,
      i,
    );
    const submitted = performance.now();
    replicas.reply(`w${worker}`, base, engine);
    held[worker] = engine.version;
    if (i < warmUp) continue;
    patchMs += performance.now() - submitted;
    submitMs += submitted - started;
  }
  return { submitMs: submitMs / timed, patchMs: patchMs / timed, updates: timed };
}
