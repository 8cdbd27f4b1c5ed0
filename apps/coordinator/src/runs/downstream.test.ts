import { mulberry32 } from '@vtrain/optimizer';
import { RunConfigSchema, type RunConfigInput } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import { WorkerReplicas, type DownstreamReply, type GlobalModel } from './downstream.js';
import { CoordinateSet } from './patch-history.js';
import { RunEngine } from './run-engine.js';

function asyncEngine(weights: Float32Array, extra: Partial<RunConfigInput> = {}): RunEngine {
  const config = RunConfigSchema.parse({
    name: 't',
    schedule: { kind: 'async', staleness: { maxStaleness: 100_000 } },
    stop: { maxVersions: 1_000_000 },
    ...extra,
  });
  return new RunEngine(config, weights, 0);
}

/** k distinct random coordinates of a P-vector with values in [-scale, scale]. */
function randomUpdate(random: () => number, length: number, k: number, scale: number) {
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(random() * length));
  const indices = Uint32Array.from(chosen).sort();
  return { length, indices, values: Float32Array.from(indices, () => (random() * 2 - 1) * scale) };
}

/** A worker's side: its own copy, updated only from what it receives. */
interface SimWorker {
  readonly id: string;
  weights: Float32Array;
  version: number;
  seq: number;
}

function adopt(worker: SimWorker, reply: DownstreamReply, engine: RunEngine): void {
  if (reply.kind === 'dense') {
    worker.weights = engine.weights.slice();
  } else if (reply.kind === 'step') {
    expect(reply.fromVersion).toBe(worker.version);
    // As the worker engine does: the Float32Array store rounds the sum to float32.
    for (let j = 0; j < reply.indices.length; j++) {
      const i = reply.indices[j] ?? 0;
      worker.weights[i] = (worker.weights[i] ?? 0) + (reply.steps[j] ?? 0);
    }
  } else {
    expect(reply.fromVersion).toBe(worker.version);
    for (let j = 0; j < reply.indices.length; j++) {
      worker.weights[reply.indices[j] ?? 0] = reply.values[j] ?? 0;
    }
  }
  worker.version = engine.version;
}

function distance(a: Float32Array, b: Float32Array): { norm: number; nonZero: number } {
  let sum = 0;
  let nonZero = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) nonZero++;
    sum += d * d;
  }
  return { norm: Math.sqrt(sum), nonZero };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** One update of `worker`'s, based on the version it holds; returns the engine's verdict status. */
function submitFrom(
  engine: RunEngine,
  worker: SimWorker,
  update: ReturnType<typeof randomUpdate>,
  at: number,
) {
  return engine.submit(
    {
      workerId: worker.id,
      seq: worker.seq++,
      baseVersion: worker.version,
      computeMs: 1,
      samples: 1,
      trainLoss: 1,
      payloadBytes: 1,
    },
    update,
    at,
  ).verdict.status;
}

/** Whether `copy` equals the broadcast bit for bit off the `owed` coordinates. */
function followsBroadcast(copy: Float32Array, broadcast: Float32Array, owed: Uint32Array): boolean {
  const skip = new Set(owed);
  for (let i = 0; i < copy.length; i++) {
    if (skip.has(i)) continue;
    if (!Object.is(copy[i], broadcast[i])) return false;
  }
  return true;
}

/** The magnitude key the error memory ranks |d| by (float32 bits >>> 18), -1 for 0. */
function keyOf(d: number): number {
  if (d === 0) return -1;
  return (new Uint32Array(Float32Array.of(Math.abs(d)).buffer)[0] ?? 0) >>> 18;
}

describe('WorkerReplicas', () => {
  it('bounds every patch by the budget; a worker holds the broadcast exactly off its owed coordinates, within the error-feedback bound of the global model', () => {
    const P = 2000;
    const k = 20;
    const budget = 60;
    const random = mulberry32(11);
    const initial = Float32Array.from({ length: P }, () => random() - 0.5);
    const engine = asyncEngine(initial.slice());
    const replicas = new WorkerReplicas(initial, budget);
    const workers: SimWorker[] = Array.from({ length: 6 }, (_, w) => ({
      id: `w${w}`,
      weights: initial.slice(),
      version: 0,
      seq: 0,
    }));
    for (const worker of workers) engine.join(worker.id, 0);
    let maxChange = 0;
    let maxError = 0;
    let minChunk = budget;
    let owedReplies = 0;
    for (let step = 0; step < 1500; step++) {
      const worker = workers[Math.floor(random() * workers.length)];
      if (!worker) throw new Error('no worker');
      const before = engine.weights.slice();
      expect(submitFrom(engine, worker, randomUpdate(random, P, k, 0.01), step)).toBe('applied');
      maxChange = Math.max(maxChange, distance(engine.weights, before).norm);
      minChunk = Math.min(minChunk, replicas.chunkSize);
      const reply = replicas.reply(worker.id, worker.version, engine);
      expect(reply.kind).toBe('patch');
      if (reply.kind === 'patch') expect(reply.indices.length).toBeLessThanOrEqual(budget);
      // ||x - x̂|| <= D q / (1 - q), q = sqrt(1 - 0.9 c / P): the error memory's geometric sum.
      const error = distance(engine.weights, replicas.broadcast).norm;
      maxError = Math.max(maxError, error);
      // One reply in ten is lost (a disconnect): the worker keeps its copy and version.
      if (random() < 0.1) continue;
      adopt(worker, reply, engine);
      const owed = replicas.owed(worker.id) ?? new Uint32Array(0);
      if (owed.length > 0) owedReplies++;
      expect(followsBroadcast(worker.weights, replicas.broadcast, owed)).toBe(true);
    }
    const q = Math.sqrt(1 - (0.9 * minChunk) / P);
    const bound = (maxChange * q) / (1 - q);
    expect(maxError).toBeLessThanOrEqual(bound);
    // Lags vary (workers drawn at random): some replies had more to send than B.
    expect(owedReplies).toBeGreaterThan(0);
    console.log(
      `max ||global - broadcast|| ${maxError.toFixed(4)}, max change ${maxChange.toFixed(4)}, chunk >= ${minChunk}, bound ${bound.toFixed(2)}`,
    );
  });

  it('takes the largest errors into the broadcast, up to a magnitude bucket, incrementally as from scratch', () => {
    const P = 3000;
    const budget = 40;
    const random = mulberry32(29);
    const initial = Float32Array.from({ length: P }, () => Math.round((random() - 0.5) * 16) / 16);
    const engine = asyncEngine(initial.slice());
    // The error memory fed the changed coordinates, as the coordinator runs it...
    const incremental = new WorkerReplicas(initial, budget);
    // ...and one whose history never knows: every advance re-ranks all P coordinates.
    const scan = new WorkerReplicas(initial, budget);
    const viaScan: GlobalModel = {
      get weights() {
        return engine.weights;
      },
      get version() {
        return engine.version;
      },
      changedSince: () => undefined,
    };
    const workers: SimWorker[] = Array.from({ length: 5 }, (_, w) => ({
      id: `w${w}`,
      weights: initial.slice(),
      version: 0,
      seq: 0,
    }));
    for (const worker of workers) engine.join(worker.id, 0);
    let checked = 0;
    for (let step = 0; step < 400; step++) {
      const worker = workers[Math.floor(random() * workers.length)];
      if (!worker) throw new Error('no worker');
      const update = randomUpdate(random, P, 1 + Math.floor(random() * 40), 1);
      // Few distinct values (multiples of 1/16): many magnitudes share a bucket.
      const values = update.values.map((v) => Math.round(v * 8) / 16);
      // The guard may refuse an update: no new version, nothing to advance.
      if (submitFrom(engine, worker, { ...update, values }, step) !== 'applied') continue;
      for (const [replicas, model] of [
        [incremental, engine],
        [scan, viaScan],
      ] as const) {
        const before = replicas.broadcast.slice();
        const chunkSize = replicas.chunkSize; // this version's (the reply then re-ranks the lags)
        replicas.reply(worker.id, worker.version, model);
        const after = replicas.broadcast;
        let sent = 0;
        let lowestSent = Infinity;
        let highestKept = -1;
        let nonZero = 0;
        let moved = 0; // coordinates of x̂ that changed to anything but x's value
        for (let i = 0; i < P; i++) {
          const d = (engine.weights[i] ?? 0) - (before[i] ?? 0);
          if (d === 0) continue;
          nonZero++;
          if (Object.is(after[i], engine.weights[i])) {
            sent++;
            lowestSent = Math.min(lowestSent, keyOf(d));
          } else {
            if (!Object.is(after[i], before[i])) moved++;
            highestKept = Math.max(highestKept, keyOf(d));
          }
        }
        expect(moved).toBe(0);
        // As many as the chunk holds (all of them when they fit), none kept above one sent.
        expect(sent).toBe(Math.min(nonZero, chunkSize));
        if (sent > 0) expect(highestKept).toBeLessThanOrEqual(lowestSent);
        checked++;
      }
      worker.version = engine.version;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('keeps a worker exact when every version fits the chunk, and catches it up bit for bit on a dense pull', () => {
    const P = 500;
    const random = mulberry32(3);
    const initial = Float32Array.from({ length: P }, () => random());
    const engine = asyncEngine(initial.slice());
    engine.join('a', 0);
    // One worker: every reply is one version on, chunks of B, 10 changes per version fit.
    const exact = new WorkerReplicas(initial, 12);
    const worker: SimWorker = { id: 'a', weights: initial.slice(), version: 0, seq: 0 };
    for (let s = 0; s < 20; s++) {
      submitFrom(engine, worker, randomUpdate(random, P, 10, 1), s);
      adopt(worker, exact.reply('a', worker.version, engine), engine);
      expect(sameBits(worker.weights, engine.weights)).toBe(true);
    }
    // A budget of 5 against 10 changes per version: the copy falls behind the global model...
    const bounded = new WorkerReplicas(initial, 5);
    const behind: SimWorker = { id: 'b', weights: initial.slice(), version: 0, seq: 0 };
    engine.join('b', 20);
    for (let s = 0; s < 20; s++) {
      submitFrom(engine, behind, randomUpdate(random, P, 10, 1), 20 + s);
      adopt(behind, bounded.reply('b', behind.version, engine), engine);
    }
    expect(sameBits(behind.weights, engine.weights)).toBe(false);
    // ...and a pull without a version gives the exact weights.
    const dense = bounded.reply('b', undefined, engine);
    expect(dense.kind).toBe('dense');
    adopt(behind, dense, engine);
    expect(sameBits(behind.weights, engine.weights)).toBe(true);
    // The next patch carries the broadcast's values where it moved, still at most B.
    submitFrom(engine, behind, randomUpdate(random, P, 3, 1), 100);
    const patch = bounded.reply('b', behind.version, engine);
    expect(patch.kind === 'patch' && patch.indices.length).toBeLessThanOrEqual(5);
    adopt(behind, patch, engine);
    if (patch.kind === 'patch') {
      for (const i of patch.indices) {
        expect(Object.is(behind.weights[i], bounded.broadcast[i])).toBe(true);
      }
    }
  });

  it('brings a worker far behind to the broadcast in replies of at most B, then exactly to the model on a full pull', () => {
    const P = 20_000;
    const budget = 30;
    const random = mulberry32(5);
    const initial = Float32Array.from({ length: P }, () => random() - 0.5);
    const engine = asyncEngine(initial.slice());
    const replicas = new WorkerReplicas(initial, budget);
    const busy: SimWorker = { id: 'busy', weights: initial.slice(), version: 0, seq: 0 };
    engine.join('busy', 0);
    // 300 versions (beyond the 256 chunks remembered) while 'late' holds version 0.
    for (let s = 0; s < 300; s++) {
      submitFrom(engine, busy, randomUpdate(random, P, 20, 0.01), s);
      adopt(busy, replicas.reply('busy', busy.version, engine), engine);
    }
    const late: SimWorker = { id: 'late', weights: initial.slice(), version: 0, seq: 0 };
    let replies = 0;
    for (;;) {
      const reply = replicas.reply('late', late.version, engine);
      expect(reply.kind).toBe('patch');
      if (reply.kind === 'patch') expect(reply.indices.length).toBeLessThanOrEqual(budget);
      adopt(late, reply, engine);
      replies++;
      // Nothing else moves meanwhile: once nothing is owed the copy is the broadcast.
      if ((replicas.owed('late')?.length ?? 0) === 0) break;
      // A new version each time, so every reply is a patch to a newer version.
      submitFrom(engine, busy, randomUpdate(random, P, 1, 0.001), 1000 + replies);
      adopt(busy, replicas.reply('busy', busy.version, engine), engine);
    }
    expect(replies).toBeGreaterThan(5);
    expect(followsBroadcast(late.weights, replicas.broadcast, new Uint32Array(0))).toBe(true);
    const full = replicas.reply('late', undefined, engine);
    expect(full.kind).toBe('dense');
    adopt(late, full, engine);
    expect(sameBits(late.weights, engine.weights)).toBe(true);
  });

  it('patches a worker at version 0 from the seeded weights, never sending them whole', () => {
    const P = 300;
    const initial = Float32Array.from({ length: P }, (_, i) => i / P);
    const engine = asyncEngine(initial.slice());
    engine.join('other', 0);
    for (let s = 0; s < 3; s++) {
      engine.submit(
        {
          workerId: 'other',
          seq: s,
          baseVersion: s,
          computeMs: 1,
          samples: 1,
          trainLoss: 1,
          payloadBytes: 1,
        },
        { length: P, indices: Uint32Array.from([s, 100 + s]), values: Float32Array.from([1, 1]) },
        s,
      );
    }
    const replicas = new WorkerReplicas(initial, 10);
    const reply = replicas.reply('late', 0, engine);
    expect(reply).toMatchObject({ kind: 'patch', fromVersion: 0 });
    if (reply.kind === 'patch') expect([...reply.indices]).toEqual([0, 1, 2, 100, 101, 102]);
    const worker: SimWorker = { id: 'late', weights: initial.slice(), version: 0, seq: 0 };
    adopt(worker, reply, engine);
    expect(sameBits(worker.weights, engine.weights)).toBe(true);
    // The same version again: an empty patch, not a resend.
    const again = replicas.reply('late', 3, engine);
    expect(again.kind === 'patch' && again.indices.length).toBe(0);
  });

  it('answers a version it cannot account for (a coordinator restart, a future version) with dense weights', () => {
    const initial = new Float32Array(50);
    const engine = asyncEngine(initial.slice());
    engine.join('a', 0);
    engine.submit(
      {
        workerId: 'a',
        seq: 0,
        baseVersion: 0,
        computeMs: 1,
        samples: 1,
        trainLoss: 1,
        payloadBytes: 1,
      },
      { length: 50, indices: Uint32Array.from([1]), values: Float32Array.from([1]) },
      0,
    );
    const replicas = new WorkerReplicas(initial, 5);
    expect(replicas.reply('a', 1, engine).kind).toBe('dense'); // no record of what version 1 holds
    expect(replicas.reply('b', 7, engine).kind).toBe('dense'); // the future
    expect(replicas.reply('a', 1, engine).kind).toBe('patch'); // now it has one
  });

  it('keeps the records of departed workers for a reconnect, at most 16 of them', () => {
    const initial = new Float32Array(10);
    const engine = asyncEngine(initial.slice());
    const replicas = new WorkerReplicas(initial, 5);
    for (let w = 0; w < 20; w++) replicas.reply(`w${w}`, 0, engine);
    expect(replicas.size).toBe(20);
    for (let w = 0; w < 20; w++) replicas.depart(`w${w}`);
    expect(replicas.size).toBe(16);
    expect(replicas.owed('w0')).toBeUndefined(); // the oldest went
    expect(replicas.owed('w19')?.length).toBe(0);
  });
});

describe('CoordinateSet', () => {
  it('drains its members sorted and once each, and is empty after', () => {
    const random = mulberry32(7);
    const set = new CoordinateSet(70_000);
    for (let round = 0; round < 20; round++) {
      const expected = new Set<number>();
      const n = Math.floor(random() * 3000);
      let wrong = 0;
      for (let j = 0; j < n; j++) {
        const i = Math.floor(random() * 70_000);
        if (set.add(i) === expected.has(i)) wrong++; // new exactly when not yet a member
        expected.add(i);
        if (!set.has(i)) wrong++;
      }
      expect(wrong).toBe(0);
      expect(set.size).toBe(expected.size);
      expect([...set.drain()]).toEqual([...expected].sort((a, b) => a - b));
      expect(set.size).toBe(0);
    }
    expect(set.has(69_999)).toBe(false);
  });
});

describe('WorkerReplicas with f16 steps', () => {
  it('with f16 steps, a worker one version behind gets the step, lands on the broadcast bit for bit and stays within 2^-10 of the global model where nothing is pending', () => {
    const P = 3000;
    const budget = 300;
    const random = mulberry32(23);
    const initial = Float32Array.from({ length: P }, () => random() - 0.5);
    const engine = asyncEngine(initial.slice());
    const replicas = new WorkerReplicas(initial, budget, { steps: true });
    const a: SimWorker = { id: 'a', weights: initial.slice(), version: 0, seq: 0 };
    const b: SimWorker = { id: 'b', weights: initial.slice(), version: 0, seq: 0 };
    const workers = [a, b];
    for (const worker of workers) engine.join(worker.id, 0);
    let steps = 0;
    let patches = 0;
    for (let round = 0; round < 40; round++) {
      // One version per round, as a synchronous round of two is; both workers then ask.
      const sender = round % 2 === 0 ? a : b;
      expect(submitFrom(engine, sender, randomUpdate(random, P, 30, 0.01), round)).toBe('applied');
      for (const worker of workers) {
        const reply = replicas.reply(worker.id, worker.version, engine);
        if (reply.kind === 'step') steps++;
        else if (reply.kind === 'patch') patches++;
        adopt(worker, reply, engine);
        expect(sameBits(worker.weights, replicas.broadcast)).toBe(true);
      }
    }
    expect(patches).toBe(0);
    expect(steps).toBe(80);
    // Off what is still in the error memory, x̂ is within the settled bound of x.
    const x = engine.weights;
    const xhat = replicas.broadcast;
    for (let i = 0; i < P; i++) {
      const gap = Math.abs((x[i] ?? 0) - (xhat[i] ?? 0));
      // Settled, or the last step's f16 remainder (about 2^-11 of a 0.01 step) still pending.
      expect(gap).toBeLessThanOrEqual(Math.max(2 ** -10 * Math.abs(x[i] ?? 0), 2 ** -20, 1e-5));
    }
    // Dense weights are x, not x̂: that worker is sent new values from then on.
    const dense = replicas.reply('a', undefined, engine);
    expect(dense.kind).toBe('dense');
    adopt(a, dense, engine);
    expect(submitFrom(engine, a, randomUpdate(random, P, 30, 0.01), 99)).toBe('applied');
    expect(replicas.reply('a', a.version, engine).kind).toBe('patch');
  });
});
