import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { childArgs, type CliOptions } from './cli-args.js';
import { STOP_MESSAGE } from './cli-worker.js';

/** How long a child may take to close its socket after the stop message before it is killed. */
const STOP_GRACE_MS = 10_000;

/** Copies each line of `stream` to `out` with `prefix` in front. */
function prefixLines(
  stream: NodeJS.ReadableStream | null,
  out: NodeJS.WriteStream,
  prefix: string,
) {
  if (stream === null) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    out.write(`${prefix}${line}\n`);
  });
}

/**
 * Forks `options.count` copies of the CLI script, each with `--count 1` (separate
 * processes, so workers do not share one JavaScript thread,
 * docs/architecture.md#data-pipeline-and-processes), prefixes
 * their output with `[worker i]`, and on SIGINT/SIGTERM sends each the stop message
 * so it closes its socket cleanly; a child still alive after 10 s, or at a second
 * signal, is killed.
 *
 * @param script - path of the CLI entry to fork.
 * @returns the exit code: 0 when every child exited with 0 or was stopped, else 1.
 */
export async function superviseWorkers(options: CliOptions, script: string): Promise<number> {
  const children: ChildProcess[] = [];
  const exits: Promise<number>[] = [];
  for (let index = 0; index < options.count; index++) {
    const child = fork(script, childArgs(options), {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, VTRAIN_WORKER_INDEX: String(index) },
    });
    const prefix = `[worker ${index}] `;
    prefixLines(child.stdout, process.stdout, prefix);
    prefixLines(child.stderr, process.stderr, prefix);
    children.push(child);
    exits.push(
      new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          if (!stopRequested || code !== 0) {
            process.stderr.write(`${prefix}exited with ${signal ?? `code ${code ?? '?'}`}\n`);
          }
          resolve(code ?? 1);
        });
      }),
    );
  }

  let stopRequested = false;
  const killAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  const onSignal = () => {
    if (stopRequested) {
      killAll();
      return;
    }
    stopRequested = true;
    process.stderr.write(`stopping ${children.length} workers (again to kill them)\n`);
    for (const child of children) if (child.connected) child.send(STOP_MESSAGE);
    setTimeout(killAll, STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const codes = await Promise.all(exits);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return codes.every((code) => code === 0) ? 0 : 1;
}
