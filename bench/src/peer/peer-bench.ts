import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_RUN } from '@vtrain/coordinator/demo-run';
import { freePort, killHard, spawnCoordinator } from '@vtrain/coordinator/coordinator-process';
import type { MetricsPoint, RunConfigInput } from '@vtrain/protocol';
import { CountingProxy, type MessageTally } from './counting-proxy.js';
import type {
  PeerBytes,
  PeerCandidate,
  PeerEvaluation,
  PeerReference,
  PeerRepetition,
  PeerResult,
  PeerWorker,
} from './peer-types.js';

/** The peer's measured run (issue #13): DISCO, federated averaging in TensorFlow.js. */
export const DISCO: PeerReference = {
  name: 'DISCO (federated averaging, TensorFlow.js)',
  setup:
    'MNIST MLP 784-128-10, 2 client processes, batch 64, Adam 1e-3, 3 rounds of 1 local epoch, IID shards, dense f32 weights (407 KB per message)',
  accuracy: 0.956,
  seconds: 108,
  bytesUp: 2_440_000,
  bytesDown: 3_260_000,
};

/** Half the peer's time and a twentieth of its bytes, both directions together. */
export const GOAL = { seconds: 54, bytes: 290_000 };

const TOKEN = 'peer-bench-token';
const POLL_MS = 200;

/** Options of one repetition. */
export interface RepetitionOptions {
  readonly targetAccuracy: number;
  readonly capSeconds: number;
  readonly workers: number;
  readonly log: (line: string) => void;
}

/**
 * One repetition of the peer's experiment on this platform: the built
 * coordinator as its own process (fresh data folder, a free port), a run
 * created through the HTTP API, the `vtrain-worker` CLI with `--count N`
 * (N worker processes, as `pnpm worker` runs them) connected through a
 * counting TCP proxy, and the full-test-set accuracy the coordinator records
 * polled until it first reaches the target or the cap passes. Bytes are those
 * the proxy saw from the workers' start to that moment (polled every 200 ms,
 * so they may include up to 200 ms of traffic after the evaluation ended).
 */
export async function runRepetition(
  config: RunConfigInput,
  options: RepetitionOptions,
): Promise<PeerRepetition> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-peer-'));
  const port = await freePort();
  const coordinator = await spawnCoordinator({ port, dataDir, token: TOKEN });
  const base = `http://127.0.0.1:${port}`;
  let proxy: CountingProxy | undefined;
  let workers: ChildProcess | undefined;
  try {
    proxy = await CountingProxy.start({ host: '127.0.0.1', port });
    const created = await fetch(`${base}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(config),
    });
    const createdBody = (await created.json()) as { id?: string; message?: string };
    if (created.status !== 201 || createdBody.id === undefined) {
      throw new Error(`run not created: ${created.status} ${JSON.stringify(createdBody)}`);
    }
    const runId = createdBody.id;
    const cli = createRequire(import.meta.url).resolve('@vtrain/worker/cli');
    const startedAt = Date.now();
    workers = spawn(
      process.execPath,
      [cli, '--url', proxy.url, '--count', String(options.workers), '--quiet'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const deadline = startedAt + options.capSeconds * 1000;
    let points: MetricsPoint[] = [];
    let reached: MetricsPoint | undefined;
    // Snapshots taken just before each poll; the evaluation a poll returns ended before its answer.
    const snapshots: { at: number; bytes: Omit<PeerBytes, 'coordinator'> }[] = [];
    for (;;) {
      await sleep(POLL_MS);
      snapshots.push({ at: Date.now(), bytes: takeSnapshot(proxy) });
      const response = await fetch(`${base}/api/runs/${runId}/metrics`);
      points = (await response.json()) as MetricsPoint[];
      // Only whole-test-set figures count, as for the peer.
      reached = points.find(
        (p) =>
          p.testSet === 'full' &&
          p.testAccuracy !== undefined &&
          p.testAccuracy >= options.targetAccuracy,
      );
      if (reached || Date.now() >= deadline) break;
      if (workers.exitCode !== null) throw new Error('the worker processes exited early');
    }
    const target = reached?.at;
    const chosen =
      target === undefined
        ? snapshots.at(-1)
        : (snapshots.find((s) => s.at >= target) ?? { at: Date.now(), bytes: takeSnapshot(proxy) });
    if (!chosen) throw new Error('no snapshot taken');
    const snapshot = chosen.bytes;
    const snapshotAt = chosen.at;
    const endAt = reached ? reached.at : snapshotAt;
    const evaluations: PeerEvaluation[] = points
      .filter((p) => p.testSet === 'full' && p.testAccuracy !== undefined)
      .map((p) => ({
        seconds: round((p.at - startedAt) / 1000, 2),
        version: p.version,
        accuracy: p.testAccuracy ?? 0,
      }));
    const last = points.findLast((p) => p.at <= snapshotAt) ?? points.at(-1);
    const bytes: PeerBytes = {
      ...snapshot,
      coordinator: { bytesIn: last?.bytesIn ?? 0, bytesOut: last?.bytesOut ?? 0 },
    };
    const seconds = (endAt - startedAt) / 1000;
    const workerStats: PeerWorker[] = proxy.connections
      .filter((c) => c.kind === 'socket.io-websocket' && c.updates.count > 0)
      .map((c) => ({
        updates: c.updates.count,
        samples: c.updates.samples,
        samplesPerSecond: round(c.updates.samples / Math.max(seconds, 1e-3), 1),
        computeSamplesPerSecond: round(
          (c.updates.samples / Math.max(c.updates.computeMs, 1)) * 1000,
          1,
        ),
      }));
    const repetition: PeerRepetition = {
      secondsToTarget: reached ? round(seconds, 2) : null,
      bestAccuracy: Math.max(0, ...evaluations.map((e) => e.accuracy)),
      seconds: round(seconds, 2),
      bytes,
      workers: workerStats,
      versions: last?.version ?? 0,
      evaluations,
    };
    const total = socketIoBytes(repetition);
    options.log(
      `    ${reached ? `reached ${options.targetAccuracy} at ${seconds.toFixed(1)} s` : `not reached in ${options.capSeconds} s (best ${repetition.bestAccuracy.toFixed(4)})`}; socket.io ${kb(total.up)} up + ${kb(total.down)} down; http ${kb(bytes.byConnection.http.down)} down; coordinator counters ${kb(bytes.coordinator.bytesIn)} in + ${kb(bytes.coordinator.bytesOut)} out; ${repetition.versions} versions; ${workerStats.map((w) => `${w.samplesPerSecond} samples/s`).join(', ')}`,
    );
    return repetition;
  } finally {
    const child = workers;
    if (child?.exitCode === null) {
      const exited = new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
      });
      child.kill('SIGTERM'); // the CLI stops its worker processes cleanly
      await Promise.race([exited, sleep(15_000)]);
      child.kill('SIGKILL'); // a no-op once it has exited
    }
    await killHard(coordinator);
    await proxy?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function takeSnapshot(proxy: CountingProxy): Omit<PeerBytes, 'coordinator'> {
  const byMessage: Record<string, MessageTally> = {};
  for (const [kind, tally] of proxy.messages) {
    byMessage[kind] = { bytes: { ...tally.bytes }, frames: { ...tally.frames } };
  }
  return { byConnection: proxy.totals(), byMessage };
}

/** socket.io bytes (websocket and polling connections) of a repetition. */
export function socketIoBytes(r: PeerRepetition): { up: number; down: number } {
  const ws = r.bytes.byConnection['socket.io-websocket'];
  const polling = r.bytes.byConnection['socket.io-polling'];
  return { up: ws.up + polling.up, down: ws.down + polling.down };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`;
}

/** Measures `config` `repetitions` times, one fresh set of processes each. */
export async function measureCandidate(
  label: string,
  config: RunConfigInput,
  repetitions: number,
  options: RepetitionOptions,
): Promise<PeerCandidate> {
  const runs: PeerRepetition[] = [];
  for (let i = 0; i < repetitions; i++) {
    options.log(`  ${label}: repetition ${i + 1}/${repetitions}`);
    runs.push(await runRepetition(config, options));
  }
  return { label, config, repetitions: runs };
}

/**
 * `bench:peer`: the demo run's default config (`DEMO_RUN`, imported, not
 * copied) against the peer's figures, three repetitions (one in the quick suite).
 */
export async function runPeerBench(
  suite: string,
  log: (line: string) => void,
): Promise<PeerResult> {
  const targetAccuracy = DISCO.accuracy;
  const capSeconds = 180;
  const workers = 2;
  const repetitions = suite === 'quick' ? 1 : 3;
  log(`peer: the demo run against ${DISCO.name}, ${repetitions} repetition(s)`);
  const candidate = await measureCandidate('demo run (DEMO_RUN)', DEMO_RUN, repetitions, {
    targetAccuracy,
    capSeconds,
    workers,
    log,
  });
  return {
    description: `The peer's experiment on this platform: the built coordinator as its own process (fresh data folder, a free port), the demo run's default config (DEMO_RUN) created through POST /api/runs, two worker processes (\`vtrain-worker --count 2\`, the headless CLI \`pnpm worker\` runs), connected through a counting TCP proxy. Time runs from the workers' start (their process start-up, tfjs and shard download included) to the end of the first full-test-set (10,000 examples) evaluation at or above the target; bytes are those the proxy saw in that time.`,
    targetAccuracy,
    capSeconds,
    workers,
    peer: DISCO,
    goal: GOAL,
    candidates: [candidate],
  };
}
