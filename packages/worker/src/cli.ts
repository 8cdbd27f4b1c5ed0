#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { CLI_USAGE, CliArgsError, parseCliArgs } from './cli-args.js';
import { superviseWorkers } from './cli-supervisor.js';
import { runWorker } from './cli-worker.js';

/**
 * `vtrain-worker --url <coordinator> [--count N] [--duty-cycle D] [--quiet]`:
 * one headless worker in this process, or N forked worker processes.
 *
 * @returns the exit code: 0 on a requested stop, 1 on a fatal error, 2 for a bad command line.
 */
async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof CliArgsError)) throw error;
    process.stderr.write(`vtrain-worker: ${error.message}\n\n${CLI_USAGE}\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${CLI_USAGE}\n`);
    return 0;
  }
  const { options } = command;
  if (options.count > 1) return superviseWorkers(options, fileURLToPath(import.meta.url));
  return runWorker(options);
}

process.exitCode = await main(process.argv.slice(2));
