import os from 'node:os';
import { CONV_TRAINING_KERNELS, useFastestNodeBackend } from '@vtrain/ml/node';
import type { CliOptions } from './cli-args.js';
import { modelNeedsConvolution } from './model-kernels.js';
import { WorkerSession } from './session.js';
import type { BackendChoice, WorkerState } from './status.js';
import { formatStatusLine, formatSummary } from './status-line.js';

/** Seconds between two status lines. */
const STATUS_INTERVAL_MS = 5_000;

/** The IPC message a supervisor sends a forked worker to stop it. */
export const STOP_MESSAGE = { type: 'vtrain-worker-stop' } as const;

/** Whether an IPC message is {@link STOP_MESSAGE}. */
export function isStopMessage(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === STOP_MESSAGE.type
  );
}

/** Picks the fastest Node backend that has the kernels `needsConvolution` requires. */
async function chooseBackend(needsConvolution: boolean): Promise<BackendChoice> {
  let reason: string | undefined;
  const name = await useFastestNodeBackend({
    requiredKernels: needsConvolution ? CONV_TRAINING_KERNELS : [],
    onFallback: (why) => {
      reason = why;
    },
  });
  return reason === undefined ? { name } : { name, reason };
}

/** A shard download that takes longer than this is abandoned (and retried by the session). */
const FETCH_TIMEOUT_MS = 120_000;

/** GET as bytes with Node's global fetch; an HTTP error status is an error, not a shard. */
async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Runs one headless worker until SIGINT, SIGTERM, the supervisor's stop
 * message, the supervisor's death, or a fatal session error; prints a status line
 * every 5 s (unless quiet), each state change, and the session's warnings.
 *
 * @returns the process exit code: 0 after a requested stop, 1 after a fatal error.
 */
export async function runWorker(options: CliOptions): Promise<number> {
  const print = (line: string) => {
    process.stdout.write(`${line}\n`);
  };
  const backend = await chooseBackend(false);
  if (backend.reason !== undefined) print(`warn: using tfjs ${backend.name}: ${backend.reason}`);
  const session = new WorkerSession({
    url: options.url,
    client: {
      kind: 'node',
      description: `vtrain-worker, Node ${process.version} on ${os.platform()} ${os.arch()}`,
    },
    backend,
    fetchBytes,
    dutyCycle: options.dutyCycle,
    capabilities: { hardwareConcurrency: Math.max(1, os.availableParallelism()) },
    prepareBackend: (assignment) => chooseBackend(modelNeedsConvolution(assignment.model)),
    log: (level, message) => {
      if (level === 'info' && options.quiet) return;
      print(`${level}: ${message}`);
    },
    onStatus: (() => {
      let lastState: WorkerState | undefined;
      return (status) => {
        // 'stopped' gets the summary line instead.
        if (status.state === lastState || status.state === 'stopped') return;
        lastState = status.state;
        print(formatStatusLine(status));
      };
    })(),
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= session.stop();
  };
  const onMessage = (message: unknown) => {
    if (isStopMessage(message)) stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('message', onMessage);
  // A forked worker whose supervisor died stops instead of training on as an orphan.
  process.on('disconnect', stop);
  const ticker = options.quiet
    ? undefined
    : setInterval(() => {
        print(formatStatusLine(session.status));
      }, STATUS_INTERVAL_MS);

  session.start();
  await session.finished;
  await stopping;
  if (ticker !== undefined) clearInterval(ticker);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.off('message', onMessage);
  process.off('disconnect', stop);
  print(formatSummary(session.status));
  return session.status.state === 'error' ? 1 : 0;
}
