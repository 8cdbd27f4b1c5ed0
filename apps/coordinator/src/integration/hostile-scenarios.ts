import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { assignmentDatasetInfo, buildModel, decodeShard, parseSafetensors } from '@vtrain/ml';
import { mulberry32 } from '@vtrain/optimizer';
import {
  encodeSparseUpdate,
  type Assignment,
  type RunConfigInput,
  type RunSummary,
} from '@vtrain/protocol';
import { TrainingEngine, applyWeightsMessage } from '@vtrain/worker';
import type { WorkerLimits } from '../net/admission.js';
import { startCoordinator, type Coordinator } from '../server.js';
import { freePort, killHard, spawnCoordinator } from './coordinator-process.js';
import { waitFor } from './harness.js';
import { HELLO, connectRawWorker, type RawSocket } from './raw-worker.js';
import { startSimWorker, type ReconnectedWeights, type SimWorker } from './sim-worker.js';

/*
 * Issue #14's acceptance: an honest run trained by real workers (the tfjs engine of
 * @vtrain/worker on raw sockets, a real coordinator on port 0 with its SQLite store) for a
 * fixed amount of honest work, then evaluated on the whole held-out set by the coordinator's
 * own final evaluation, with and without an attacker running alongside. The work is counted
 * in updates the coordinator accepted from the honest workers, not in wall time, so a run
 * under attack (or paused by a full disk) does the same honest work as the clean one.
 *
 * Used by hostile-accuracy.test.ts (small budgets) and by the bench's `--only hostile`
 * (larger ones, the table in docs/benchmarks.md).
 */

const TOKEN = 'hostile-scenario-token';

/** The honest run: synthetic data, MLP 784-16-10, SGD, 10% top-k, asynchronous, every safety default. */
export function scenarioConfig(name: string): RunConfigInput {
  return {
    name,
    seed: 3,
    dataset: { name: 'synthetic', shards: 2 },
    model: { kind: 'mlp', hiddenUnits: [16] },
    // Batches of 128 at 0.3: near its ceiling (98.7%) after 300 updates, where a perturbed
    // order of batches (a refused update, a restart) moves the result by tenths of a point.
    training: { batchSize: 128, workerOptimizer: { kind: 'sgd', learningRate: 0.3 } },
    compression: { density: 0.1, errorFeedback: true },
    schedule: { kind: 'async' },
    evaluation: { everyVersions: 100_000, testExamples: 200 },
    // Often enough that a crash loses little honest work.
    checkpoint: { everyVersions: 20, everySeconds: 3600 },
    stop: { maxSeconds: 3600 },
  };
}

/** Where the coordinator runs and what an attack may do to its host. */
export interface ScenarioHost {
  readonly url: string;
  readonly token: string;
  /** The data folder (on a small tmpfs when the scenario asked for one). */
  readonly dataDir: string;
  /** The in-process coordinator (absent when it runs as its own process). */
  readonly coordinator: Coordinator | undefined;
  /** Ends the coordinator at once (SIGKILL when it is a process) and starts it again on the same port and folder. */
  crash(): Promise<void>;
  /** A clean restart: close (final checkpoints), start again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HostOptions {
  readonly process?: boolean;
  readonly workerLimits?: Partial<WorkerLimits>;
  /** Put the data folder on a tmpfs of this many bytes (needs root on Linux). */
  readonly tmpfsBytes?: number;
}

/** Whether this process may mount a tmpfs (root on Linux): the disk-full scenario needs one. */
export function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'vtrain-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

async function startHost(options: HostOptions): Promise<ScenarioHost> {
  const root = mkdtempSync(join(tmpdir(), 'vtrain-hostile-'));
  if (options.tmpfsBytes !== undefined) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.tmpfsBytes}`, 'tmpfs', root]);
  }
  const dataDir = join(root, 'data');
  const port = await freePort();
  const removeRoot = (): void => {
    if (options.tmpfsBytes !== undefined) execFileSync('umount', ['-l', root]);
    rmSync(root, { recursive: true, force: true });
  };
  if (options.process) {
    let child: ChildProcess = await spawnCoordinator({ port, dataDir, token: TOKEN });
    return {
      url: `http://127.0.0.1:${port}`,
      token: TOKEN,
      dataDir,
      coordinator: undefined,
      async crash() {
        await killHard(child);
        child = await spawnCoordinator({ port, dataDir, token: TOKEN });
      },
      async restart() {
        await new Promise<void>((resolve) => {
          child.once('exit', () => {
            resolve();
          });
          child.kill('SIGTERM');
        });
        child = await spawnCoordinator({ port, dataDir, token: TOKEN });
      },
      async close() {
        await killHard(child);
        removeRoot();
      },
    };
  }
  const boot = (): Promise<Coordinator> =>
    startCoordinator({
      port,
      host: '127.0.0.1',
      dataDir,
      token: TOKEN,
      log: () => undefined,
      ...(options.workerLimits ? { workerLimits: options.workerLimits } : {}),
    });
  let coordinator = await boot();
  return {
    url: coordinator.url,
    token: TOKEN,
    dataDir,
    get coordinator() {
      return coordinator;
    },
    async crash() {
      // In process there is no SIGKILL: the closest is a close without waiting for anything.
      await coordinator.close();
      coordinator = await boot();
    },
    async restart() {
      await coordinator.close();
      coordinator = await boot();
    },
    async close() {
      await coordinator.close().catch(() => undefined);
      removeRoot();
    },
  };
}

async function api(
  host: ScenarioHost,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${host.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${host.token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: await response.json() };
}

async function runSummary(host: ScenarioHost, runId: string): Promise<RunSummary> {
  const { status, body } = await api(host, `/api/runs/${runId}`);
  if (status !== 200) throw new Error(`run ${runId}: ${status} ${JSON.stringify(body)}`);
  return body as RunSummary;
}

/** What an attack sees of the run it attacks. */
export interface ScenarioContext {
  readonly host: ScenarioHost;
  readonly runId: string;
  readonly parameterCount: number;
  /** Updates the coordinator accepted from the honest workers so far. */
  honestAccepted(): number;
  /** The honest work the run does in all. */
  readonly honestBudget: number;
  /** Resolves once the honest workers have had `count` updates accepted, or stopped. */
  honestProgress(count: number): Promise<void>;
  /** Whether the honest work is done (an attack running alongside should wind down). */
  honestDone(): boolean;
  /** The honest workers (to read what they saw). */
  readonly honest: readonly SimWorker[];
  /** The run's version now. */
  version(): Promise<number>;
}

/** What an attack reports: one line for the table, and the figures behind it. */
export interface AttackReport {
  readonly did: string;
  readonly figures: Readonly<Record<string, unknown>>;
}

export interface Attack {
  readonly name: string;
  readonly host?: HostOptions;
  /** Honest workers reconnect (under their identity, keeping their copy) when the connection breaks. */
  readonly reconnect?: boolean;
  /** Before the honest workers start (the warm-up, when there is no history yet). */
  before?(context: ScenarioContext): Promise<void>;
  /** Alongside the honest workers; resolves with the report once it is done (at the latest when the honest work is). */
  during(context: ScenarioContext): Promise<AttackReport>;
  /** After the run ended (its final evaluation made): checks that need the ended run. */
  after?(context: ScenarioContext, run: RunSummary): Promise<Record<string, unknown>>;
}

export interface ScenarioResult {
  readonly name: string;
  /** Final accuracy on the whole held-out set (the coordinator's final evaluation). */
  readonly accuracy: number;
  readonly testExamples: number;
  readonly version: number;
  readonly honestAccepted: number;
  /** Every weight of the exported model (safetensors) finite. */
  readonly weightsFinite: boolean;
  /** The run's reject counters at its end. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Honest updates refused (and gone on after), by reason. */
  readonly honestRefused: Readonly<Record<string, number>>;
  readonly report: AttackReport | undefined;
  readonly after: Readonly<Record<string, unknown>>;
  readonly afterReconnect: readonly ReconnectedWeights[];
  readonly seconds: number;
}

export interface ScenarioOptions {
  /**
   * Where the coordinator runs when no attack says (the attack's own `host` wins): a run
   * without an attack on the host an attack uses is that attack's baseline.
   */
  readonly host?: HostOptions;
  /**
   * Honest workers (default 1: one worker's updates apply in a fixed order, so two runs
   * without an attack end at the same accuracy whatever the machine's load; two workers
   * interleave by timing and land up to 2 points apart, measured).
   */
  readonly workers?: number;
  /** Accepted updates per honest worker. */
  readonly updatesPerWorker: number;
}

/** Trains the honest run, with `attack` alongside when given; the final accuracy and what happened. */
export async function runScenario(
  attack: Attack | undefined,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const started = performance.now();
  const name = attack?.name ?? 'no attack';
  const host = await startHost(attack?.host ?? options.host ?? {});
  const workersCount = options.workers ?? 1;
  try {
    const { status, body } = await api(host, '/api/runs', {
      method: 'POST',
      body: scenarioConfig(name),
    });
    if (status !== 201) throw new Error(`run not created: ${status} ${JSON.stringify(body)}`);
    const runId = (body as { id: string }).id;
    const parameterCount = (await runSummary(host, runId)).parameterCount;
    const honest: SimWorker[] = [];
    const accepted = (): number => honest.reduce((sum, w) => sum + w.accepted, 0);
    const budget = workersCount * options.updatesPerWorker;
    const context: ScenarioContext = {
      host,
      runId,
      parameterCount,
      honestAccepted: accepted,
      honestBudget: budget,
      honestDone: () => honest.length > 0 && honest.every((w) => !w.running),
      honestProgress: (count) =>
        waitFor(`${count} honest updates`, 1_800_000, () =>
          Promise.resolve(
            accepted() >= count || (honest.length > 0 && honest.every((w) => !w.running))
              ? true
              : undefined,
          ),
        ).then(() => undefined),
      honest,
      version: async () => (await runSummary(host, runId)).version,
    };
    await attack?.before?.(context);
    let startTraining = (): void => undefined;
    const start = new Promise<void>((resolve) => {
      startTraining = resolve;
    });
    honest.push(
      ...(await Promise.all(
        Array.from({ length: workersCount }, (_, i) =>
          startSimWorker(host.url, {
            seed: 100 + i,
            start,
            maxAccepted: options.updatesPerWorker,
            // Counted, not fatal: a defence that refuses honest work shows in the table.
            keepGoingOn: ['unsafe-update', 'empty-update', 'future-version', 'duplicate'],
            ...(attack?.reconnect ? { reconnectWithinMs: 120_000 } : {}),
          }),
        ),
      )),
    );
    startTraining();
    let report: AttackReport | undefined;
    try {
      const during = attack?.during(context);
      await Promise.all(honest.map((w) => w.done));
      report = await during;
    } finally {
      await Promise.all(honest.map((w) => w.stop()));
    }
    const failures = honest.filter((w) => w.failure !== undefined).map((w) => String(w.failure));
    if (failures.length > 0) throw new Error(`honest workers failed: ${failures.join('; ')}`);
    // The final evaluation: the final weights on the whole test set, as the coordinator makes it.
    const stop = await api(host, `/api/runs/${runId}/stop`, { method: 'POST' });
    if (stop.status !== 200) throw new Error(`stop: ${stop.status} ${JSON.stringify(stop.body)}`);
    const run = await runSummary(host, runId);
    const evaluation = run.fullEvaluation;
    if (evaluation?.version !== run.version) {
      throw new Error(`no final evaluation of version ${run.version}`);
    }
    const exported = await fetch(`${host.url}/api/runs/${runId}/export/model.safetensors`, {
      headers: { authorization: `Bearer ${host.token}` },
    });
    const tensors = parseSafetensors(new Uint8Array(await exported.arrayBuffer())).tensors;
    const weightsFinite = tensors.every((t) => t.data.every((w) => Number.isFinite(w)));
    const after = (await attack?.after?.(context, run)) ?? {};
    const refused: Record<string, number> = {};
    for (const worker of honest) {
      for (const [reason, n] of Object.entries(worker.refusals)) {
        refused[reason] = (refused[reason] ?? 0) + n;
      }
    }
    const rejected = Object.fromEntries(
      Object.entries(run.latest?.updatesRejected ?? {}).filter(([, n]) => n > 0),
    );
    return {
      name,
      accuracy: evaluation.testAccuracy,
      testExamples: evaluation.testExamples,
      version: run.version,
      honestAccepted: accepted(),
      weightsFinite,
      rejected,
      honestRefused: refused,
      report,
      after,
      afterReconnect: honest.flatMap((w) => w.afterReconnect),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await host.close();
  }
}

/* ---------------------------------------------------------------- attacks */

interface RawIdentity {
  readonly socket: RawSocket;
  readonly runId: string;
  readonly parameterCount: number;
  seq: number;
}

async function joinRaw(url: string, address?: string): Promise<RawIdentity> {
  const socket = await connectRawWorker(
    url,
    address === undefined ? {} : { extraHeaders: { 'x-forwarded-for': address } },
  );
  const welcome = await socket.emitWithAck('hello', HELLO);
  if (welcome.type !== 'welcome' || !welcome.assignment) {
    socket.disconnect();
    throw new Error(welcome.type === 'error' ? welcome.code : 'no run to join');
  }
  return {
    socket,
    runId: welcome.assignment.runId,
    parameterCount: welcome.assignment.parameterCount,
    seq: 0,
  };
}

/** Sends one update; the answer as `applied`, `buffered` or the reject reason. */
async function push(
  who: RawIdentity,
  payload: Uint8Array,
  claims: { baseVersion: number; computeMs?: number; samples?: number },
): Promise<string> {
  const reply = await who.socket.emitWithAck('update', {
    type: 'update',
    runId: who.runId,
    seq: who.seq++,
    baseVersion: claims.baseVersion,
    steps: 1,
    samples: claims.samples ?? 32,
    trainLoss: 1,
    computeMs: claims.computeMs ?? 5,
    payload,
  });
  return reply.type === 'ack' ? reply.status : reply.reason;
}

/** Counts of each outcome. */
export function tally(outcomes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

function describeTally(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, n]) => `${n} ${outcome}`)
    .join(', ');
}

/** The points of the honest work at which an attack strikes: `count` evenly spread, from `from`. */
function checkpoints(context: ScenarioContext, count: number, from = 0.1): number[] {
  return Array.from({ length: count }, (_, i) =>
    Math.floor(context.honestBudget * (from + ((1 - from) * i) / count)),
  );
}

/**
 * ±3e38 (finite, f32's range ends at 3.4e38) on 1,000 coordinates, 4 updates at each of
 * `rounds` points of the honest work; with `warmup`, 4 more before the honest worker starts
 * (alone in the run's warm-up, where updates over the model's bounds are scaled, not refused).
 */
export function hugeValues(options: { rounds?: number; warmup: boolean }): Attack {
  const rounds = options.rounds ?? 8;
  const payload = (P: number): Uint8Array => {
    const indices = Uint32Array.from({ length: Math.min(1000, P) }, (_, j) => (j * 7) % P);
    const sorted = Uint32Array.from(new Set(indices)).sort();
    const values = Float32Array.from(sorted, (_, j) => (j % 2 === 0 ? 3e38 : -3e38));
    return encodeSparseUpdate({ length: P, indices: sorted, values }, { valueFormat: 'f32' });
  };
  const outcomes: string[] = [];
  let hostile: RawIdentity | undefined;
  return {
    name: options.warmup ? 'huge finite values, from the warm-up' : 'huge finite values',
    async before(context) {
      hostile = await joinRaw(context.host.url);
      if (!options.warmup) return;
      // The warm-up: no accepted update yet to compare with.
      for (let i = 0; i < 4; i++) {
        outcomes.push(await push(hostile, payload(context.parameterCount), { baseVersion: 0 }));
      }
    },
    async during(context) {
      if (!hostile) throw new Error('before() first');
      for (const at of checkpoints(context, rounds)) {
        await context.honestProgress(at);
        if (context.honestDone()) break;
        const baseVersion = await context.version();
        for (let i = 0; i < 4; i++) {
          outcomes.push(await push(hostile, payload(context.parameterCount), { baseVersion }));
        }
      }
      hostile.socket.disconnect();
      const counts = tally(outcomes);
      return {
        did: `${outcomes.length} updates of ±3e38: ${describeTally(counts)}`,
        figures: {
          outcomes: counts,
          ...(options.warmup ? { warmup: tally(outcomes.slice(0, 4)) } : {}),
        },
      };
    },
  };
}

/**
 * Fresh identities, one connection and one update each, from one address and from many
 * (the coordinator trusts a proxy's X-Forwarded-For here, so each spread identity is a
 * different client to it). Each update is Gaussian noise on 10% of the coordinates, its norm
 * probed to sit just inside the guarded mean's bounds: every one accepted raises the norm
 * the next one tries by half, every refusal lowers it (a ratchet on the accepted window).
 */
export function sybilFlood(options: {
  oneAddress: number;
  spread: number;
  /** Also strike in the warm-up, before the honest workers start (a tenth of them; default true). */
  warmup?: boolean;
}): Attack {
  const outcomes: string[] = [];
  const refusedAtHello: string[] = [];
  let norm = 1;
  const random = mulberry32(7);
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const payload = (P: number): Uint8Array => {
    const k = Math.max(1, Math.floor(P / 10));
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(Math.floor(random() * P));
    const indices = Uint32Array.from(chosen).sort();
    const draws = Float32Array.from(indices, () => gaussian());
    const scale = norm / Math.hypot(...draws);
    return encodeSparseUpdate(
      { length: P, indices, values: draws.map((v) => v * scale) },
      { valueFormat: 'f32' },
    );
  };
  const sybil = async (context: ScenarioContext, address: string): Promise<void> => {
    let who: RawIdentity;
    try {
      who = await joinRaw(context.host.url, address);
    } catch (error) {
      refusedAtHello.push(error instanceof Error ? error.message : String(error));
      return;
    }
    try {
      const tried = norm;
      // A pull first, so the coordinator's record says it holds the current version.
      // With a timeout: a request the coordinator never answers shows as "no answer", not a hang.
      const noAnswer = new Promise<'no answer'>((resolve) => {
        setTimeout(() => {
          resolve('no answer');
        }, 60_000).unref();
      });
      const weights = await Promise.race([
        who.socket.emitWithAck('pull', { type: 'pull', runId: who.runId }),
        noAnswer,
      ]);
      if (weights === 'no answer') {
        outcomes.push('no answer to a pull');
        return;
      }
      const outcome = await Promise.race([
        push(who, payload(context.parameterCount), {
          baseVersion: weights.type === 'weights' ? weights.version : 0,
        }),
        noAnswer,
      ]);
      outcomes.push(outcome);
      norm = outcome === 'applied' ? Math.max(norm, tried * 1.5) : Math.min(norm, tried / 1.5);
    } finally {
      who.socket.disconnect();
    }
  };
  const flood = async (context: ScenarioContext, from: number, to: number): Promise<void> => {
    // Ten at a time, the first `oneAddress` from one address, the rest each from its own.
    for (let i = from; i < to; i += 10) {
      if (context.honestDone()) return;
      await Promise.all(
        Array.from({ length: Math.min(10, to - i) }, (_, j) => {
          const n = i + j;
          const address =
            n < options.oneAddress
              ? '198.51.100.1'
              : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
          return sybil(context, address);
        }),
      );
    }
  };
  const total = options.oneAddress + options.spread;
  return {
    name: 'Sybil flood of fresh identities',
    host: { workerLimits: { trustProxy: true } },
    async before(context) {
      // A tenth before the honest workers start: they would own the warm-up.
      if (options.warmup !== false) await flood(context, 0, Math.floor(total / 10));
    },
    async during(context) {
      await context.honestProgress(Math.floor(context.honestBudget / 10));
      await flood(context, options.warmup !== false ? Math.floor(total / 10) : 0, total);
      const counts = tally(outcomes);
      const hello = tally(refusedAtHello);
      return {
        did:
          `${total} fresh identities (${options.oneAddress} from one address, ${options.spread} spread): ` +
          `${describeTally(hello) || 'none'} refused at hello; updates: ${describeTally(counts)}; ` +
          `largest norm tried ${norm.toPrecision(2)}`,
        figures: { updates: counts, refusedAtHello: hello, finalNorm: norm },
      };
    },
  };
}

/** Updates with no entry, or only zeros, from one identity and from fresh ones. */
export function emptyUpdates(count: number): Attack {
  const outcomes: string[] = [];
  let versionBefore = 0;
  return {
    name: 'empty updates',
    async during(context) {
      const P = context.parameterCount;
      const empty = encodeSparseUpdate(
        { length: P, indices: new Uint32Array(0), values: new Float32Array(0) },
        { valueFormat: 'f32' },
      );
      const zeros = encodeSparseUpdate(
        { length: P, indices: Uint32Array.of(1, 2, 3), values: Float32Array.of(0, -0, 0) },
        { valueFormat: 'f32' },
      );
      const one = await joinRaw(context.host.url);
      const points = checkpoints(context, 10, 0);
      for (const [round, at] of points.entries()) {
        await context.honestProgress(at);
        if (context.honestDone()) break;
        const baseVersion = await context.version();
        for (let i = 0; i < count / points.length; i++) {
          // Every other one from a fresh identity.
          const who = i % 2 === 0 ? one : await joinRaw(context.host.url);
          outcomes.push(await push(who, (round + i) % 3 === 0 ? zeros : empty, { baseVersion }));
          if (who !== one) who.socket.disconnect();
        }
      }
      one.socket.disconnect();
      versionBefore = context.honestAccepted();
      const counts = tally(outcomes);
      return {
        did: `${outcomes.length} empty or all-zero updates: ${describeTally(counts)}`,
        figures: { outcomes: counts },
      };
    },
    after(context, run) {
      // No version from the attacker: every version is an honest update.
      return Promise.resolve({
        versions: run.version,
        honestAccepted: context.honestAccepted(),
        honestAcceptedWhenAttackEnded: versionBefore,
      });
    },
  };
}

/**
 * A real engine that pulls version 0 once and then sends honest-looking work computed on
 * it, claiming each time that it was computed on the newest version, in no time (1 ms)
 * or in a day; then the same with a version from the future.
 */
export function lyingClaims(rounds = 20): Attack {
  const outcomes: string[] = [];
  const futures: string[] = [];
  const stalenessCounted: number[] = [];
  return {
    name: 'lying baseVersion and computeMs',
    async during(context) {
      const { url } = context.host;
      const socket = await connectRawWorker(url);
      const welcome = await socket.emitWithAck('hello', HELLO);
      if (welcome.type !== 'welcome' || !welcome.assignment) throw new Error('no run');
      const assignment = welcome.assignment as Assignment;
      const info = assignmentDatasetInfo(assignment.dataset);
      const shard = new Uint8Array(
        await (await fetch(new URL(assignment.dataset.shardUrl, url))).arrayBuffer(),
      );
      const engine = new TrainingEngine({
        assignment,
        dataset: decodeShard(shard, info),
        model: await buildModel(assignment.model, info, 0),
        random: mulberry32(99),
      });
      const pulled = await socket.emitWithAck('pull', { type: 'pull', runId: context.runId });
      if (pulled.type !== 'weights') throw new Error('pull refused');
      applyWeightsMessage(engine, { ...pulled, payload: new Uint8Array(pulled.payload) });
      const liar: RawIdentity = {
        socket,
        runId: context.runId,
        parameterCount: context.parameterCount,
        seq: 0,
      };
      try {
        // From 5% of the honest work, while version 0 is still within maxStaleness (32).
        for (const [i, at] of checkpoints(context, rounds, 0.05).entries()) {
          await context.honestProgress(at);
          if (context.honestDone()) break;
          // Work on the copy it pulled at the start (it never takes the weights it is sent).
          const update = await engine.computeUpdate(1);
          const newest = await context.version();
          const reply = await socket.emitWithAck('update', {
            type: 'update',
            runId: context.runId,
            seq: liar.seq++,
            baseVersion: newest,
            steps: update.steps,
            samples: update.samples,
            trainLoss: update.trainLoss,
            computeMs: i % 2 === 0 ? 1 : 86_400_000,
            payload: update.payload,
          });
          outcomes.push(reply.type === 'ack' ? reply.status : reply.reason);
          // Claimed 0; the coordinator's own record of what it sent says otherwise.
          if (reply.type === 'ack') stalenessCounted.push(reply.staleness);
          futures.push(await push(liar, update.payload, { baseVersion: newest + 1000 }));
        }
      } finally {
        socket.disconnect();
        engine.dispose();
      }
      const counts = tally(outcomes);
      return {
        did:
          `${outcomes.length} updates on version 0 claiming the newest version (1 ms or a day of compute): ` +
          `${describeTally(counts)}, staleness counted ${stalenessCounted.join(', ') || 'none'} ` +
          `(from what it was sent); ${futures.length} claiming a future version: ${describeTally(tally(futures))}`,
        figures: { claimedNewest: counts, claimedFuture: tally(futures), stalenessCounted },
      };
    },
  };
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * Hellos at volume: `hellos` hello messages, each asking for a new identity, over
 * `connections` connections that each come from their own address (a trusted proxy's
 * X-Forwarded-For), while the honest run trains. A million sockets would test the machine;
 * a million hellos go through the same admission path and identity store a million
 * identities would. The engine side of a million identities joining, sending and leaving
 * (departed seqs, revoked secrets, the checkpoint header) is bounded-state.test.ts.
 */
export function manyIdentities(options: { hellos: number; connections: number }): Attack {
  let welcomed = 0;
  const refused: string[] = [];
  let rssBefore = 0;
  let rssPeak = 0;
  return {
    name: 'a million identities',
    host: { workerLimits: { trustProxy: true } },
    async during(context) {
      await context.honestProgress(Math.floor(context.honestBudget / 10));
      rssBefore = rssMiB();
      const started = performance.now();
      const perConnection = Math.ceil(options.hellos / options.connections);
      const batch = 200;
      // A few connections at a time, each sending its hellos in pipelined batches.
      for (let c = 0; c < options.connections; c += 4) {
        await Promise.all(
          Array.from({ length: Math.min(4, options.connections - c) }, async (_, j) => {
            const n = c + j;
            const socket = await connectRawWorker(context.host.url, {
              extraHeaders: {
                'x-forwarded-for': `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`,
              },
            });
            try {
              for (let sent = 0; sent < perConnection; sent += batch) {
                const replies = await Promise.all(
                  Array.from({ length: Math.min(batch, perConnection - sent) }, () =>
                    socket.emitWithAck('hello', HELLO),
                  ),
                );
                for (const reply of replies) {
                  if (reply.type === 'welcome') welcomed += 1;
                  else refused.push(reply.code);
                }
              }
            } finally {
              socket.disconnect();
            }
          }),
        );
        rssPeak = Math.max(rssPeak, rssMiB());
      }
      const seconds = (performance.now() - started) / 1000;
      const counts = tally(refused);
      return {
        did:
          `${welcomed + refused.length} hellos in ${seconds.toFixed(0)} s over ${options.connections} addresses: ${welcomed} new identities, ` +
          describeTally(counts),
        figures: { hellos: welcomed + refused.length, welcomed, refused: counts, seconds },
      };
    },
    after(context) {
      const db = new Database(join(context.host.dataDir, 'coordinator.sqlite'), {
        readonly: true,
      });
      try {
        const stored = db
          .prepare(
            "SELECT count(*) AS n FROM settings WHERE key >= 'worker-secret:' AND key < 'worker-secret;'",
          )
          .get() as { n: number };
        return Promise.resolve({
          secretsStored: stored.n,
          rssBeforeMiB: Math.round(rssBefore),
          rssPeakMiB: Math.round(rssPeak),
          rssAfterMiB: Math.round(rssMiB()),
        });
      } finally {
        db.close();
      }
    },
  };
}

/** Writes zeros to `path` until the file system refuses (ENOSPC); returns the bytes written. */
async function fillDisk(path: string): Promise<number> {
  const file = await open(path, 'w');
  let written = 0;
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      for (;;) {
        try {
          written += (await file.write(Buffer.alloc(size))).bytesWritten;
        } catch {
          break;
        }
      }
    }
  } finally {
    await file.close().catch(() => undefined);
  }
  return written;
}

/**
 * The coordinator's disk fills up a third of the way through the honest work (a 16 MiB
 * tmpfs under its data folder), stays full until the honest workers have been refused for
 * a while, then space returns. Nothing acknowledged may be lost: after the run, a restart
 * resumes at the version the run ended at.
 */
export function diskFull(): Attack {
  let refusedDuringFault = 0;
  let faultShown = false;
  let versionAtFault = -1;
  let versionBeforeSpace = -1;
  return {
    name: 'disk full',
    host: { tmpfsBytes: 16 * 2 ** 20 },
    async during(context) {
      await context.honestProgress(Math.floor(context.honestBudget / 3));
      const filler = join(context.host.dataDir, '..', 'filler');
      await fillDisk(filler);
      const refusals = (): number =>
        context.honest.reduce((sum, w) => sum + (w.refusals['storage-unavailable'] ?? 0), 0);
      const before = refusals();
      // Held until every honest worker has been refused at least twice (or it ended).
      await waitFor('honest workers refused', 120_000, () =>
        Promise.resolve(
          refusals() - before >= 2 * context.honest.length || context.honestDone()
            ? true
            : undefined,
        ),
      );
      const run = await runSummary(context.host, context.runId);
      faultShown = run.fault?.code === 'storage-unavailable';
      versionAtFault = run.version;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      versionBeforeSpace = await context.version();
      refusedDuringFault = refusals() - before;
      await rm(filler);
      return {
        did:
          `disk filled at ${context.honestAccepted()} honest updates: ${refusedDuringFault} honest updates ` +
          `refused as storage-unavailable, fault ${faultShown ? 'shown' : 'NOT shown'} on the run, ` +
          `version held at ${versionAtFault}; then space returned`,
        figures: { refusedDuringFault, faultShown, versionAtFault, versionBeforeSpace },
      };
    },
    async after(context, run) {
      // Nothing acknowledged is lost: after a restart the run is at the version it ended at.
      await context.host.restart();
      const reopened = await runSummary(context.host, context.runId);
      return {
        endedAt: run.version,
        afterRestart: reopened.version,
        appliedAcks: context.honestAccepted(),
      };
    },
  };
}

/**
 * The coordinator process is SIGKILLed halfway through and started again on the same port
 * and folder; it resumes at its last checkpoint, behind the copies the workers hold. The
 * honest workers reconnect under their identity with their copy, as the real session does.
 */
export function restartWithStaleWorkers(): Attack {
  let heldBeforeCrash = 0;
  let resumedAt = 0;
  return {
    name: 'restart with stale workers',
    host: { process: true },
    reconnect: true,
    async during(context) {
      await context.honestProgress(Math.floor(context.honestBudget / 2));
      heldBeforeCrash = await context.version();
      await context.host.crash();
      resumedAt = await context.version();
      await waitFor('the honest workers back', 120_000, () =>
        Promise.resolve(
          context.honest.every((w) => w.afterReconnect.length > 0 || !w.running) ? true : undefined,
        ),
      );
      const after = context.honest.flatMap((w) => w.afterReconnect);
      return {
        did:
          `SIGKILL at version ${heldBeforeCrash}, resumed at ${resumedAt} in a new epoch; ` +
          `${after.length} workers came back holding versions ${after.map((a) => a.heldVersion).join(', ')} ` +
          `and were sent ${after.map((a) => `${a.encoding} v${a.version}`).join(', ')}`,
        figures: { heldBeforeCrash, resumedAt, afterReconnect: after },
      };
    },
  };
}
