import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Health, RunSummary } from '@vtrain/protocol';
import { cpuSeconds, listeningPid, residentBytes } from './coordinator-rss.js';
import type { LoadOptions } from './load-args.js';
import {
  addCounts,
  addDelta,
  emptyDelta,
  quantile,
  type AssignedRun,
  type ChildConfig,
  type ChildMessage,
  type LoadDelta,
  type ParentMessage,
} from './load-types.js';

/** What one load run measured: `bench/results/load-*.json` (with provenance). */
export interface LoadResult {
  readonly url: string;
  readonly clients: number;
  readonly processes: number;
  readonly periodMs: number;
  /** The measurement window as it ran, in seconds. */
  readonly seconds: number;
  /** Stopped early (Ctrl-C): the window is shorter than asked. */
  readonly interrupted: boolean;
  /** The run the volunteers were assigned, and its schedule kind from `GET /api/runs/:id`. */
  readonly run: (AssignedRun & { readonly schedule: string | undefined }) | undefined;
  /** Seconds from the first connection to the last join settled. */
  readonly joinSeconds: number;
  /** Volunteers joined when the window opened, and the fewest joined at once during it. */
  readonly joined: number;
  readonly joinedMin: number;
  /** Volunteers that could not join, by the coordinator's reason. */
  readonly refused: Readonly<Record<string, number>>;
  /** The coordinator's own count of connected workers on the run, at the window's end. */
  readonly activeWorkers: number | undefined;
  /** clients x 1000 / period: what the volunteers would offer if every answer came at once. */
  readonly nominalPerSecond: number;
  readonly offered: number;
  readonly offeredPerSecond: number;
  /** In the model: applied at once plus buffered ones whose round closed. */
  readonly applied: number;
  readonly appliedPerSecond: number;
  readonly appliedAtOnce: number;
  readonly appliedAfterBarrier: number;
  readonly bufferedUnconfirmed: number;
  /** Sent in the window but still in flight or behind an open round when it ended. */
  readonly pendingAtEnd: number;
  /** applied / (offered - pendingAtEnd): the share of the window's decided updates in the model. */
  readonly appliedShare: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  /** From sending an update to its answer, updates sent and answered in the window. */
  readonly ackLatencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly answers: number;
  } | null;
  /** The coordinator process's memory, when its RSS could be read (`/proc/PID/status`). */
  readonly coordinator: {
    readonly pid: number;
    /** Before any volunteer connected. */
    readonly rssIdleBytes: number;
    /** Every volunteer joined, before the window. */
    readonly rssJoinedBytes: number;
    /** The largest sample (every second) during the window. */
    readonly rssPeakBytes: number;
    /** (rssJoined - rssIdle) / joined: what holding one more volunteer costs. */
    readonly rssPerVolunteerBytes: number;
    /** CPU seconds the coordinator used in the window (all its threads), per second of window: cores busy. */
    readonly cpuCores: number | null;
    /** Its CPU ms in the window per applied update. */
    readonly cpuMsPerApplied: number | null;
  } | null;
  /** CPU the load processes used in the window, per second of window (cores busy). */
  readonly generatorCpuCores: number;
  readonly notes: string;
}

/** How long volunteers may take to join: 0.3 s each, at least a minute (a loaded coordinator admits slowly). */
function joinTimeoutMs(clients: number): number {
  return Math.max(60_000, clients * 300);
}

const PROGRESS_EVERY_MS = 5000;
/** An overloaded coordinator may not answer HTTP at all: the tool does not wait on it forever. */
const HTTP_TIMEOUT_MS = 10_000;

interface Child {
  readonly process: ChildProcess;
  joined: number;
  settled: number;
  refused: Record<string, number>;
  done: boolean;
  cpuMs: number;
  exited: Promise<void>;
}

/**
 * Runs the load: forks `processes` children with their share of `clients`
 * volunteers each ({@link ChildConfig}), waits until every volunteer joined
 * (or could not), opens the measurement window of `seconds`, then stops every
 * child and sums their counts. Logs a line while joining and every 5 s of the
 * window. `signal` ends the window early (Ctrl-C); the result says so.
 *
 * @throws Error when the coordinator does not answer its health check, or no volunteer joined.
 */
export async function runLoad(
  options: LoadOptions,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const { url, clients, processes, periodMs } = options;
  const health = await fetch(new URL('/api/health', url), {
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  }).then(
    async (response) => (await response.json()) as Health,
    (error: unknown) => {
      throw new Error(
        `no coordinator answers at ${url} (${error instanceof Error ? error.message : String(error)}): start one with "pnpm start"`,
      );
    },
  );
  if (!health.ready) throw new Error(`the coordinator at ${url} is not ready (shutting down?)`);

  const pid = options.pid ?? (await listeningPid(url));
  const rssIdle = pid === undefined ? undefined : await residentBytes(pid);
  if (rssIdle === undefined) {
    log(
      pid === undefined
        ? `coordinator RSS: no process of this user listens on ${url}'s port; give --pid to measure it`
        : `coordinator RSS: /proc/${pid}/status cannot be read; RSS is left out`,
    );
  } else {
    log(`coordinator pid ${pid}, RSS ${mb(rssIdle)} before any volunteer`);
  }

  const children = spawnChildren(url, clients, processes, periodMs);
  let run: AssignedRun | undefined;
  let measuring = false;
  const window = emptyDelta();
  let interval = emptyDelta();
  for (const child of children) {
    child.process.on('message', (message: ChildMessage) => {
      if (message.type === 'done') {
        child.done = true;
        return;
      }
      child.joined = message.joined;
      child.settled = message.settled;
      child.refused = { ...message.refused };
      child.cpuMs = message.cpuMs;
      run ??= message.run;
      if (measuring) {
        addDelta(window, message.delta);
        addDelta(interval, message.delta);
      }
    });
  }
  const sum = (key: 'joined' | 'settled' | 'cpuMs'): number =>
    children.reduce((total, child) => total + child[key], 0);
  const refused = (): Record<string, number> => {
    const all: Record<string, number> = {};
    for (const child of children) addCounts(all, child.refused);
    return all;
  };

  const interrupted = (): boolean => signal?.aborted === true;
  try {
    // Join.
    const joinStarted = performance.now();
    let lastLog = joinStarted;
    while (sum('settled') < clients && !interrupted()) {
      if (performance.now() - joinStarted > joinTimeoutMs(clients)) {
        log(`join timed out after ${((performance.now() - joinStarted) / 1000).toFixed(0)} s`);
        break;
      }
      await sleep(200);
      if (performance.now() - lastLog >= 2000) {
        lastLog = performance.now();
        log(`joining: ${sum('joined')} of ${clients} joined, ${total(refused())} refused`);
      }
    }
    const joinSeconds = (performance.now() - joinStarted) / 1000;
    const joined = sum('joined');
    const refusals = refused();
    log(
      `joined ${joined} of ${clients} in ${joinSeconds.toFixed(1)} s${total(refusals) > 0 ? `; refused: ${formatCounts(refusals)}` : ''}`,
    );
    if (Object.keys(refusals).some((reason) => reason.startsWith('rate-limited'))) {
      log(
        `the coordinator's limits per address refused volunteers: for a load test from one machine, start it with ` +
          `WORKER_CONNECTIONS_PER_ADDRESS=${clients} WORKER_CONNECT_BURST_PER_ADDRESS=${clients} ` +
          `WORKER_IDENTITY_BURST_PER_ADDRESS=${clients} (docs/api.md#limits)`,
      );
    }
    if (joined === 0 && !interrupted()) {
      throw new Error(
        `no volunteer joined ${url}${total(refusals) > 0 ? `: ${formatCounts(refusals)}` : ''}`,
      );
    }

    // What holding the volunteers costs, once the joins' garbage had a moment to go.
    if (!interrupted()) await sleep(1000);
    const rssJoined = pid === undefined ? undefined : await residentBytes(pid);
    let rssPeak = rssJoined ?? 0;

    // Measure (not at all when Ctrl-C came while joining: there is no window then).
    const cpuAtStart = pid === undefined ? undefined : await cpuSeconds(pid);
    const generatorCpuAtStart = sum('cpuMs');
    measuring = !interrupted();
    if (measuring) broadcast(children, { type: 'measure' });
    const started = performance.now();
    const end = started + options.seconds * 1000;
    let joinedMin = joined;
    let nextProgress = started + PROGRESS_EVERY_MS;
    let lastProgress = started;
    while (performance.now() < end && !interrupted()) {
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
      joinedMin = Math.min(joinedMin, sum('joined'));
      if (pid !== undefined) rssPeak = Math.max(rssPeak, (await residentBytes(pid)) ?? 0);
      const now = performance.now();
      if (now >= nextProgress || now >= end) {
        const span = (now - lastProgress) / 1000;
        log(progressLine((now - started) / 1000, sum('joined'), interval, span, pid && rssPeak));
        interval = emptyDelta();
        lastProgress = now;
        nextProgress = now + PROGRESS_EVERY_MS;
      }
    }
    const seconds = measuring ? (performance.now() - started) / 1000 : 0;
    // Figures per second of a window that never opened are 0, not a division by zero.
    const perSecond = (n: number): number => (seconds === 0 ? 0 : n / seconds);
    const cpuAtEnd = pid === undefined ? undefined : await cpuSeconds(pid);
    const coordinatorCpu =
      cpuAtStart === undefined || cpuAtEnd === undefined ? undefined : cpuAtEnd - cpuAtStart;
    // The children's last report is at most a second old: close enough for a share of cores.
    const generatorCpuCores = perSecond((sum('cpuMs') - generatorCpuAtStart) / 1000);
    const summary =
      run === undefined
        ? undefined
        : await fetch(new URL(`/api/runs/${run.runId}`, url), {
            signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
          })
            .then((response) =>
              response.ok ? (response.json() as Promise<RunSummary>) : undefined,
            )
            .catch(() => undefined);
    await stopChildren(children, log);
    measuring = false;

    const applied = window.appliedAtOnce + window.appliedAfterBarrier;
    const latencies = window.latenciesMs.sort((a, b) => a - b);
    return {
      url,
      clients,
      processes,
      periodMs,
      seconds,
      interrupted: interrupted(),
      run: run === undefined ? undefined : { ...run, schedule: summary?.config.schedule.kind },
      joinSeconds,
      joined,
      joinedMin,
      refused: refusals,
      activeWorkers: summary?.activeWorkers,
      nominalPerSecond: (clients * 1000) / periodMs,
      offered: window.offered,
      offeredPerSecond: perSecond(window.offered),
      applied,
      appliedPerSecond: perSecond(applied),
      appliedAtOnce: window.appliedAtOnce,
      appliedAfterBarrier: window.appliedAfterBarrier,
      bufferedUnconfirmed: window.bufferedUnconfirmed,
      pendingAtEnd: window.pendingAtEnd,
      appliedShare:
        window.offered - window.pendingAtEnd <= 0
          ? 0
          : applied / (window.offered - window.pendingAtEnd),
      rejected: window.rejected,
      errors: window.errors,
      ackLatencyMs:
        latencies.length === 0
          ? null
          : {
              p50: quantile(latencies, 0.5) ?? 0,
              p99: quantile(latencies, 0.99) ?? 0,
              max: latencies[latencies.length - 1] ?? 0,
              answers: latencies.length,
            },
      coordinator:
        pid === undefined || rssIdle === undefined || rssJoined === undefined
          ? null
          : {
              pid,
              rssIdleBytes: rssIdle,
              rssJoinedBytes: rssJoined,
              rssPeakBytes: rssPeak,
              rssPerVolunteerBytes: joined === 0 ? 0 : (rssJoined - rssIdle) / joined,
              cpuCores:
                coordinatorCpu === undefined || seconds === 0 ? null : coordinatorCpu / seconds,
              cpuMsPerApplied:
                coordinatorCpu === undefined || applied === 0
                  ? null
                  : (coordinatorCpu * 1000) / applied,
            },
      generatorCpuCores,
      notes:
        'Simulated volunteers (bench/src/load): real socket.io connections speaking the worker protocol, no tfjs; each sends a prepared sparse update at the run\'s density (its own coordinates), one in flight. After an applied ack the next is due one jittered period (0.5-1.5 x period) after the previous was sent (a worker computes ahead while an update travels); after a buffered ack (then the round\'s version notice and a pull) or a rejection, one jittered period after the pull. "applied" counts updates in the model: applied acks, plus buffered acks whose round closed (version notice); appliedShare leaves out the updates still undecided when the window ended. Latency: update sent to its ack or reject. RSS from /proc/PID/status of the coordinator process; the load generator runs on the same machine.',
    };
  } finally {
    await stopChildren(children, log);
  }
}

function spawnChildren(url: string, clients: number, processes: number, periodMs: number): Child[] {
  // From source (tests, tsx) the child is a .ts file and needs tsx's loader; built, a .js file.
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(
    new URL(`./volunteer-process.${fromSource ? 'ts' : 'js'}`, import.meta.url),
  );
  const children: Child[] = [];
  for (let p = 0; p < processes; p++) {
    const share = Math.floor(clients / processes) + (p < clients % processes ? 1 : 0);
    const config: ChildConfig = { url, clients: share, periodMs, processIndex: p };
    const child = fork(script, [JSON.stringify(config)], {
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const entry: Child = {
      process: child,
      joined: 0,
      settled: 0,
      refused: {},
      done: false,
      cpuMs: 0,
      exited: new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
      }),
    };
    children.push(entry);
  }
  return children;
}

function broadcast(children: readonly Child[], message: ParentMessage): void {
  for (const child of children) {
    if (child.process.connected) child.process.send(message);
  }
}

/** Asks every child to stop and waits for it to exit (30 s, then SIGKILL). */
async function stopChildren(
  children: readonly Child[],
  log: (line: string) => void,
): Promise<void> {
  broadcast(children, { type: 'stop' });
  const all = Promise.all(children.map((child) => child.exited));
  const timer = sleep(30_000).then(() => 'timeout' as const);
  if ((await Promise.race([all, timer])) === 'timeout') {
    log('some volunteer processes did not stop within 30 s; killing them');
    for (const child of children) {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
    await all;
  }
}

function progressLine(
  at: number,
  joined: number,
  interval: LoadDelta,
  span: number,
  rss: number | undefined,
): string {
  const applied = interval.appliedAtOnce + interval.appliedAfterBarrier;
  const latencies = interval.latenciesMs.sort((a, b) => a - b);
  const rejected = total(interval.rejected);
  return [
    `${at.toFixed(0).padStart(4)} s: ${joined} joined`,
    `offered ${(interval.offered / span).toFixed(0)}/s`,
    `applied ${(applied / span).toFixed(0)}/s`,
    `ack p50 ${ms(quantile(latencies, 0.5))} p99 ${ms(quantile(latencies, 0.99))}`,
    rejected > 0 ? `rejected ${formatCounts(interval.rejected)}` : 'none rejected',
    ...(rss ? [`coordinator RSS ${mb(rss)}`] : []),
  ].join(', ');
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** "stale 3, late 1". */
export function formatCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(0)} ms`;
}

/** "481 MB" (10^6 bytes, as the issue's table). */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

/** The summary printed at the end: the figures of the issue's load table. */
export function summaryLines(result: LoadResult): string[] {
  const latency = result.ackLatencyMs;
  const rss = result.coordinator;
  return [
    `volunteers ${result.clients}, period ${result.periodMs} ms, window ${result.seconds.toFixed(1)} s${result.interrupted ? ' (interrupted)' : ''}, ${result.processes} load processes`,
    `run: ${result.run === undefined ? 'none' : `${result.run.runName} (${result.run.schedule ?? '?'}, P = ${result.run.parameterCount}, density ${result.run.density}, ${result.run.valueFormat})`}`,
    `joined: ${result.joined} (fewest during the window ${result.joinedMin}; coordinator counts ${result.activeWorkers ?? '?'} active workers)${Object.keys(result.refused).length > 0 ? `, refused: ${formatCounts(result.refused)}` : ''}`,
    `offered: ${result.offeredPerSecond.toFixed(1)} updates/s (nominal ${result.nominalPerSecond.toFixed(0)}/s)`,
    `applied: ${result.appliedPerSecond.toFixed(1)} updates/s (${(100 * result.appliedShare).toFixed(1)}% of the ${result.offered - result.pendingAtEnd} offered updates decided in the window; ${result.appliedAtOnce} at once, ${result.appliedAfterBarrier} after their round closed, ${result.bufferedUnconfirmed} buffered without a notice, ${result.pendingAtEnd} undecided at the end)`,
    `rejected: ${Object.keys(result.rejected).length === 0 ? 'none' : formatCounts(result.rejected)}${Object.keys(result.errors).length === 0 ? '' : `; errors: ${formatCounts(result.errors)}`}`,
    `ack latency: ${latency === null ? 'no answers' : `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(0)} ms (${latency.answers} answers)`}`,
    `coordinator RSS: ${rss === null ? 'not measured (give --pid)' : `${mb(rss.rssIdleBytes)} idle, ${mb(rss.rssJoinedBytes)} with the volunteers joined, ${mb(rss.rssPeakBytes)} peak; ${(rss.rssPerVolunteerBytes / 1024).toFixed(0)} KiB per volunteer; CPU ${rss.cpuCores === null ? '?' : rss.cpuCores.toFixed(2)} cores, ${rss.cpuMsPerApplied === null ? '?' : rss.cpuMsPerApplied.toFixed(2)} ms per applied update`}`,
    `load generator CPU: ${result.generatorCpuCores.toFixed(2)} cores`,
  ];
}
