import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestCoordinator } from '@vtrain/coordinator/harness';
import { startBareServer } from './bare-server.js';
import { measureEngineCost } from './engine-cost.js';
import type { IngestResult, IngestServerResult } from './ingest-types.js';
import { ingestPayload } from './payloads.js';

/** 784-1262-10 MLP: 1,003,300 parameters, the "1M" model of the issue. */
const HIDDEN = 1262;
const PARAMETERS = 784 * HIDDEN + HIDDEN + HIDDEN * 10 + 10;
const DENSITY = 0.01;

interface ClientCounts {
  readonly applied: number;
  readonly other: number;
  readonly rejected: Record<string, number>;
}

/** Spawns the client processes and resolves once every one has connected its clients. */
async function spawnClients(
  url: string,
  mode: 'coordinator' | 'bare',
  processes: number,
  perProcess: number,
  indexSeed: string,
): Promise<{
  children: ChildProcessByStdio<Writable, Readable, null>[];
  results: Promise<ClientCounts>[];
}> {
  const script = fileURLToPath(new URL('./client-process.js', import.meta.url));
  const children: ChildProcessByStdio<Writable, Readable, null>[] = [];
  const ready: Promise<void>[] = [];
  const results: Promise<ClientCounts>[] = [];
  for (let p = 0; p < processes; p++) {
    const child = spawn(
      process.execPath,
      [
        script,
        url,
        mode,
        String(perProcess),
        String(PARAMETERS),
        String(DENSITY),
        indexSeed,
        String(p),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout });
    let markReady: () => void = () => undefined;
    ready.push(new Promise<void>((resolve) => (markReady = resolve)));
    results.push(
      new Promise<ClientCounts>((resolve, reject) => {
        lines.on('line', (line) => {
          if (line === 'ready') markReady();
          else if (line.startsWith('{')) resolve(JSON.parse(line) as ClientCounts);
        });
        child.once('exit', (code) => {
          if (code !== 0) reject(new Error(`ingest client ${p} exited with ${code}`));
        });
      }),
    );
    children.push(child);
  }
  await Promise.all(ready);
  return { children, results };
}

/**
 * One client with one connection says hello and leaves, so what the run sets
 * up on first use (shard encoding, buffers) is not counted as per-worker memory.
 */
async function warmUp(url: string): Promise<void> {
  const { children, results } = await spawnClients(url, 'coordinator', 1, 1, '1');
  for (const result of results) result.catch(() => undefined); // killed on purpose
  for (const child of children) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
}

async function measure(
  label: string,
  url: string,
  mode: 'coordinator' | 'bare',
  processes: number,
  perProcess: number,
  seconds: number,
  indexSeed: string,
  log: (line: string) => void,
): Promise<IngestServerResult & { rejected: Record<string, number> }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  const { children, results } = await spawnClients(url, mode, processes, perProcess, indexSeed);
  await sleep(1000);
  global.gc?.();
  const connected = process.memoryUsage().rss;
  const start = Date.now() + 500;
  const end = start + seconds * 1000;
  for (const child of children) child.stdin.write(`go ${start} ${end}\n`);
  let peak = connected;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 200);
  const counts = await Promise.all(results);
  clearInterval(sampler);
  const applied = counts.reduce((sum, c) => sum + c.applied, 0);
  const rejected: Record<string, number> = {};
  for (const c of counts) {
    for (const [reason, n] of Object.entries(c.rejected))
      rejected[reason] = (rejected[reason] ?? 0) + n;
  }
  const clients = processes * perProcess;
  const result = {
    updatesPerSecond: applied / seconds,
    rssBytes: peak,
    memoryPerWorkerBytes: (connected - before) / clients,
    rejected,
  };
  log(
    `  ${label}: ${result.updatesPerSecond.toFixed(0)} updates/s, rejected ${JSON.stringify(rejected)}, ${((connected - before) / clients / 1024).toFixed(0)} KiB per connection`,
  );
  return result;
}

/**
 * Coordinator ingest: the real coordinator (asynchronous run on a 1M-parameter
 * MLP, staleness bound at its maximum so no update is refused for age) against
 * a bare socket.io server, the same clients and pre-encoded payloads for both.
 * Every client sends at the rate its acks allow, one update in flight, like a
 * worker. Each applied ack of the coordinator carries a patch of at most B = k
 * new values of the broadcast model every worker follows (bounded downstream,
 * one shared error memory), which is part of what is measured.
 */
export async function runIngestBench(
  suite: string,
  log: (line: string) => void,
): Promise<IngestResult> {
  const processes = 16;
  const perProcess = 4;
  const seconds = suite === 'quick' ? 5 : 10;
  // The shared index set every client sends (seed 1): an applied ack's patch is as large.
  const sharedPayload = ingestPayload(PARAMETERS, DENSITY, 1);
  const payloadBytes = sharedPayload.length;

  const bare = await measureBare('bare, receive only', undefined);
  const bareWithPatch = await measureBare(
    'bare, acks carrying a patch-sized payload',
    sharedPayload,
  );

  async function measureBare(label: string, ackPatch: Uint8Array | undefined) {
    const bareServer = await startBareServer(8 * 1024 * 1024, ackPatch);
    try {
      return await measure(label, bareServer.url, 'bare', processes, perProcess, seconds, '1', log);
    } finally {
      await bareServer.close();
    }
  }

  const server = await TestCoordinator.start();
  let shared;
  let distinct;
  try {
    await server.createRun({
      name: 'ingest',
      model: { kind: 'mlp', hiddenUnits: [HIDDEN] },
      compression: { density: DENSITY, errorFeedback: true },
      schedule: { kind: 'async', staleness: { maxStaleness: 100_000 } },
      evaluation: { everyVersions: 1_000_000, testExamples: 500 },
      checkpoint: { everyVersions: 1_000_000, everySeconds: 3600 },
      stop: { maxSeconds: 3600 },
    });
    await warmUp(server.url);
    shared = await measure(
      'coordinator (shared indices)',
      server.url,
      'coordinator',
      processes,
      perProcess,
      seconds,
      '1',
      log,
    );
    distinct = await measure(
      'coordinator (distinct indices)',
      server.url,
      'coordinator',
      processes,
      perProcess,
      seconds,
      'distinct',
      log,
    );
  } finally {
    await server.stop();
  }
  // Last, so its garbage does not move the RSS baselines of the socket measurements.
  const engineCost = measureEngineCost(PARAMETERS, HIDDEN, DENSITY, 'shared');
  const engineCostDistinct = measureEngineCost(PARAMETERS, HIDDEN, DENSITY, 'distinct');
  for (const [label, cost] of [
    ['shared', engineCost],
    ['distinct', engineCostDistinct],
  ] as const) {
    log(
      `  run engine alone (${label} indices): ${cost.submitMs.toFixed(2)} ms per submit, ${cost.patchMs.toFixed(2)} ms per ack patch`,
    );
  }
  log(
    `  distinct indices: ${distinct.updatesPerSecond.toFixed(0)} updates/s, ${((100 * distinct.updatesPerSecond) / bare.updatesPerSecond).toFixed(1)}% of bare receive-only`,
  );
  return {
    clients: processes * perProcess,
    processes,
    parameterCount: PARAMETERS,
    density: DENSITY,
    payloadBytes,
    seconds,
    coordinator: shared,
    bare,
    ratio: shared.updatesPerSecond / bare.updatesPerSecond,
    bareWithPatch,
    ratioToBareWithPatch: shared.updatesPerSecond / bareWithPatch.updatesPerSecond,
    distinctIndices: distinct,
    engineCost,
    engineCostDistinct,
    notes:
      "Main figure: every client sends the same coordinates (one seeded index set). With a distinct index set per client (the second coordinator row) the other 63 clients change about 63 k coordinates between two replies to a worker, far more than the B = k its ack may carry. Bounded downstream compresses the model's change once for all workers (one shared error memory, DoubleSqueeze): at each new version the largest entries of (global - broadcast model) join the broadcast model, c = B / L of them (L the 90th percentile of the workers' reply lags, about 64 here), and an ack carries the broadcast model's values at the coordinates it changed since the worker's version, at most B. Its cost per applied update is O(k) whatever the number of workers and P: the error memory (a stack of coordinates per magnitude key) is touched at the k changed and c sent coordinates, and a reply unions about B coordinates in a bitmap that hands them out sorted. The per-worker exact top-B it replaced had to look at about half of P per ack in the distinct row. The server runs in the bench process (RSS is that process's; memory per worker is the RSS growth from connecting and saying hello, divided by the clients, after one client has said hello and left so that the run's first-use set-up is not counted); clients and server share this machine's 2 cores.",
  };
}
