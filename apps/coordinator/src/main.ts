import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DATASET_MAX_BYTES } from './datasets/dataset-store.js';
import { DEMO_RUN } from './demo-run.js';
import { parseOriginList } from './http/origin-policy.js';
import type { WorkerLimits } from './net/admission.js';
import type { IdentityRetention } from './net/worker-identities.js';
import { startCoordinator } from './server.js';

const HELP = `Usage: pnpm start [-- --workers N]

Starts the coordinator. Environment:
  PORT               HTTP and socket.io port (default 3000)
  HOST               interface to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)
  DATA_DIR           database, checkpoints, uploaded data sets and the researcher
                     token (default ./data)
  DATASET_MAX_BYTES  largest data set upload in bytes (default 536870912, 512 MB)
  COORDINATOR_TOKEN  researcher token, at least 16 printable characters (default:
                     generated once, kept in DATA_DIR/researcher-token)
  WEB_ROOT           built web client to serve (default apps/web-worker-client/dist)
  ORIGINS            comma-separated web origins besides this one allowed to use the
                     API and socket.io (default none: same-origin only); their host
                     names are also the DNS names the coordinator answers to
  HTTP_RATE_LIMIT    HTTP requests per minute per client address (default 1200; 0: off)
  TRUST_PROXY        behind a reverse proxy: 1 (or its address) to take client and
                     worker addresses from X-Forwarded-For (default 0: not trusted)
  WORKER_CONNECTIONS_PER_ADDRESS, WORKER_CONNECTIONS_TOTAL,
  WORKER_CONNECT_BURST_PER_ADDRESS, WORKER_CONNECTS_PER_SECOND_PER_ADDRESS,
  WORKER_IDENTITY_BURST_PER_ADDRESS, WORKER_IDENTITIES_PER_SECOND_PER_ADDRESS,
  WORKER_IDENTITY_BURST_TOTAL, WORKER_IDENTITIES_PER_SECOND_TOTAL,
  WORKER_PULL_BURST, WORKER_PULLS_PER_SECOND, WEIGHTS_BYTES_OUT_PER_SECOND
                     what a worker connection costs (docs/api.md#limits)
  IDENTITY_TTL_HOURS, IDENTITIES_KEPT
                     how long (default 168) and how many (default 100000) worker
                     identities are kept
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
  // Set but empty is a mistake to report, not a request for a generated token.
  const token = process.env.COORDINATOR_TOKEN;
  const rateLimit = Number(process.env.HTTP_RATE_LIMIT ?? 1200);
  if (!Number.isInteger(rateLimit) || rateLimit < 0) {
    throw new Error(
      `HTTP_RATE_LIMIT must be a whole number of requests a minute, got "${process.env.HTTP_RATE_LIMIT ?? ''}"`,
    );
  }
  const trustProxy = trustProxyFromEnv(process.env.TRUST_PROXY);
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
    ...(token === undefined ? {} : { token }),
    requestsPerMinute: rateLimit,
    ...(trustProxy === undefined ? {} : { trustProxy }),
    allowedOrigins: parseOriginList(process.env.ORIGINS),
    workerLimits: workerLimitsFromEnv(process.env),
    identityRetention: identityRetentionFromEnv(process.env),
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

/** A non-negative number from the environment, or undefined when unset. */
function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  }
  return value;
}

/** The worker limits set in the environment (the rest keep their defaults). */
function workerLimitsFromEnv(env: NodeJS.ProcessEnv): Partial<WorkerLimits> {
  const names: Record<Exclude<keyof WorkerLimits, 'trustProxy'>, string> = {
    connectionsPerAddress: 'WORKER_CONNECTIONS_PER_ADDRESS',
    connectionsTotal: 'WORKER_CONNECTIONS_TOTAL',
    connectBurstPerAddress: 'WORKER_CONNECT_BURST_PER_ADDRESS',
    connectsPerSecondPerAddress: 'WORKER_CONNECTS_PER_SECOND_PER_ADDRESS',
    identityBurstPerAddress: 'WORKER_IDENTITY_BURST_PER_ADDRESS',
    identitiesPerSecondPerAddress: 'WORKER_IDENTITIES_PER_SECOND_PER_ADDRESS',
    identityBurstTotal: 'WORKER_IDENTITY_BURST_TOTAL',
    identitiesPerSecondTotal: 'WORKER_IDENTITIES_PER_SECOND_TOTAL',
    pullBurst: 'WORKER_PULL_BURST',
    pullsPerSecond: 'WORKER_PULLS_PER_SECOND',
    bytesOutPerSecond: 'WEIGHTS_BYTES_OUT_PER_SECOND',
  };
  const limits: Partial<Record<keyof WorkerLimits, number | boolean>> = {};
  for (const [key, name] of Object.entries(names)) {
    const value = envNumber(env, name);
    if (value !== undefined) limits[key as keyof WorkerLimits] = value;
  }
  if (trustProxyFromEnv(env.TRUST_PROXY) !== undefined) limits.trustProxy = true;
  return limits as Partial<WorkerLimits>;
}

/** `TRUST_PROXY`: unset, empty, 0 or false: not trusted; 1 or true: any proxy; else the proxy's address. */
function trustProxyFromEnv(raw: string | undefined): true | string | undefined {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return undefined;
  return raw === '1' || raw === 'true' ? true : raw;
}

function identityRetentionFromEnv(env: NodeJS.ProcessEnv): Partial<IdentityRetention> {
  const hours = envNumber(env, 'IDENTITY_TTL_HOURS');
  const kept = envNumber(env, 'IDENTITIES_KEPT');
  return {
    ...(hours === undefined ? {} : { ttlMs: hours * 3600 * 1000 }),
    ...(kept === undefined ? {} : { keepAtMost: Math.floor(kept) }),
  };
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
