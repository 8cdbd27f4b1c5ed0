import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DATASET_MAX_BYTES } from './datasets/dataset-store.js';
import { DEMO_RUN } from './demo-run.js';
import { parseOriginList } from './http/origin-policy.js';
import { startCoordinator } from './server.js';

const HELP = `Usage: pnpm start [-- --workers N]

Starts the coordinator. Environment:
  PORT               HTTP and socket.io port (default 3000)
  HOST               interface to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)
  DATA_DIR           database, checkpoints, uploaded data sets and the researcher
                     token (default ./data)
  DATASET_MAX_BYTES  largest data set upload in bytes (default 536870912, 512 MB)
  COORDINATOR_TOKEN  researcher token (default: generated once, kept in DATA_DIR)
  WEB_ROOT           built web client to serve (default apps/web-worker-client/dist)
  ORIGINS            comma-separated web origins besides this one allowed to use the
                     API and socket.io (default none: same-origin only)
Options:
  --workers N        also start N local headless workers
  --no-demo          do not create the demo run on first start`;

/** The web client's build in this workspace, beside this app (dist/main.js -> ../../web-worker-client/dist). */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web-worker-client/dist', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    // `pnpm start -- --workers 3` hands the script a literal `--` (once per pnpm level).
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      workers: { type: 'string', default: '0' },
      'no-demo': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const workerCount = Number(values.workers);
  if (!Number.isInteger(workerCount) || workerCount < 0) {
    throw new Error(`--workers must be a whole number, got "${values.workers}"`);
  }
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number, got "${process.env.PORT ?? ''}"`);
  }
  const dataDir = resolve(process.env.DATA_DIR ?? 'data');
  const token = process.env.COORDINATOR_TOKEN;
  const datasetMaxBytes = Number(process.env.DATASET_MAX_BYTES ?? DEFAULT_DATASET_MAX_BYTES);
  if (!Number.isSafeInteger(datasetMaxBytes) || datasetMaxBytes < 1) {
    throw new Error(
      `DATASET_MAX_BYTES must be a positive number of bytes, got "${process.env.DATASET_MAX_BYTES ?? ''}"`,
    );
  }
  const coordinator = await startCoordinator({
    port,
    dataDir,
    webRoot: process.env.WEB_ROOT ? resolve(process.env.WEB_ROOT) : DEFAULT_WEB_ROOT,
    ...(process.env.HOST ? { host: process.env.HOST } : {}),
    ...(token ? { token } : {}),
    allowedOrigins: parseOriginList(process.env.ORIGINS),
    datasetMaxBytes,
    // Created before the coordinator listens: a script that sees /api/health answer sees the run.
    ...(values['no-demo'] ? {} : { initialRun: DEMO_RUN }),
  });
  console.log(`
vtrain coordinator listening on ${coordinator.url}
  contribute:        ${coordinator.url}/
  dashboard:         ${coordinator.url}/dashboard/
  API:               ${coordinator.url}/api/runs   (docs/api.md)
  headless workers:  pnpm worker --url ${coordinator.url} --count 3
  researcher token:  ${coordinator.token}
  data:              ${dataDir}
`);

  const workers = workerCount > 0 ? startWorkers(coordinator.url, workerCount) : undefined;
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: stopping workers, writing final checkpoints...`);
    workers?.kill('SIGTERM');
    void coordinator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });
}

/** Local headless workers: the worker CLI of @vtrain/worker, in its own process tree. */
function startWorkers(url: string, count: number): ChildProcess {
  const cli = createRequire(import.meta.url).resolve('@vtrain/worker/cli');
  const child = spawn(process.execPath, [cli, '--url', url, '--count', String(count)], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`local workers exited with code ${code}`);
  });
  return child;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
