/**
 * `pnpm load --url URL --clients N [--period MS] [--seconds S] ...`: simulated
 * volunteers against a running coordinator (see {@link LOAD_USAGE} and
 * bench/README.md). Prints progress and a summary, and writes the result with
 * its provenance to `bench/results/load-<clients>.json` (or `--out`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../results.js';
import { LOAD_USAGE, LoadArgsError, parseLoadArgs } from './load-args.js';
import { runLoad, summaryLines } from './load-run.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function log(line: string): void {
  console.log(`[load] ${line}`);
}

async function main(): Promise<number> {
  let command;
  try {
    command = parseLoadArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof LoadArgsError) {
      console.error(`${error.message}\n\n${LOAD_USAGE}`);
      return 2;
    }
    throw error;
  }
  if (command.kind === 'help') {
    console.log(LOAD_USAGE);
    return 0;
  }
  const { options } = command;
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) return;
    log('Ctrl-C: stopping the volunteers...');
    controller.abort();
  });
  log(
    `${options.clients} volunteers in ${options.processes} processes against ${options.url}, an update every ${options.periodMs} ms each, ${options.seconds} s window`,
  );
  const result = await runLoad(options, log, controller.signal);
  for (const line of summaryLines(result)) log(line);
  if (result.interrupted) {
    log('interrupted: no result file written');
    return 130;
  }
  // pnpm runs the script in bench/; a relative --out means the directory `pnpm load` was typed in.
  const out =
    options.out === undefined
      ? path.join(repoRoot, 'bench', 'results', `load-${options.clients}.json`)
      : path.resolve(process.env.INIT_CWD ?? process.cwd(), options.out);
  await writeResult(out, result);
  log(`wrote ${path.relative(process.cwd(), out)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[load] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
