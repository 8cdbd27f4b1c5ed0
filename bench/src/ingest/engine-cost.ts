import { RunEngine } from '@vtrain/coordinator/run-engine';
import { decodeSparseUpdate, RunConfigSchema } from '@vtrain/protocol';
import { ingestPayload } from './payloads.js';

/** Where a coordinator update's time goes, without sockets: the run engine alone. */
export interface EngineCost {
  /** Mean ms of `RunEngine.submit` (schedule, aggregation, server step, patch history). */
  readonly submitMs: number;
  /** Mean ms of building the applied ack's patch list (`patchCoordinates` from 64 versions back). */
  readonly patchMs: number;
  readonly updates: number;
}

/**
 * Times the real run engine on the ingest bench's model and payload: 64
 * workers, asynchronous, each update based 64 versions back (one in flight
 * per worker), so the figure is comparable with the socket measurement.
 */
export function measureEngineCost(
  parameterCount: number,
  hidden: number,
  density: number,
): EngineCost {
  const config = RunConfigSchema.parse({
    name: 'engine cost',
    model: { kind: 'mlp', hiddenUnits: [hidden] },
    schedule: { kind: 'async', staleness: { maxStaleness: 100_000 } },
    stop: { maxSeconds: 3600 },
  });
  const engine = new RunEngine(config, new Float32Array(parameterCount), 0);
  const update = decodeSparseUpdate(ingestPayload(parameterCount, density, 1), {
    maxLength: parameterCount,
    maxCount: parameterCount,
  });
  const workers = 64;
  for (let w = 0; w < workers; w++) engine.join(`w${w}`, 0);
  // The first hundred updates warm the JIT up and are not timed: the server runs hot.
  const warmUp = 100;
  const updates = 200;
  let submitMs = 0;
  let patchMs = 0;
  for (let i = 0; i < warmUp + updates; i++) {
    const base = Math.max(0, engine.version - workers);
    const started = performance.now();
    engine.submit(
      {
        workerId: `w${i % workers}`,
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
    engine.patchCoordinates(base);
    if (i < warmUp) continue;
    patchMs += performance.now() - submitted;
    submitMs += submitted - started;
  }
  return { submitMs: submitMs / updates, patchMs: patchMs / updates, updates };
}
