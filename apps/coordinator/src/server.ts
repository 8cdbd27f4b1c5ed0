import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import {
  MAX_PARAMETER_COUNT,
  maxUpdateMessageBytes,
  type RunConfigInput,
  type RunSummary,
} from '@vtrain/protocol';
import { Server } from 'socket.io';
import { Evaluator } from './evaluation/evaluator.js';
import { RunExports } from './runs/run-exports.js';
import { buildHttpApp } from './http/http-app.js';
import { hostPolicy, originPolicy, ownHostNames } from './http/origin-policy.js';
import {
  attachDashboardNamespace,
  dashboardRoom,
  dashboardWorkersRoom,
} from './net/dashboard-namespace.js';
import { FailedTokenThrottle, checkResearcherToken } from './net/researcher-token.js';
import {
  attachWorkerNamespace,
  endRunForWorkers,
  notifyWaitingWorkers,
  runRoom,
} from './net/worker-namespace.js';
import { DEFAULT_WORKER_LIMITS, type WorkerLimits } from './net/admission.js';
import type { WeightsReplies } from './net/weights-message.js';
import {
  DEFAULT_IDENTITY_RETENTION,
  WorkerIdentities,
  type IdentityRetention,
} from './net/worker-identities.js';
import { RunManager, type RunListener } from './runs/run-manager.js';
import { DatasetCache } from './runs/run-setup.js';
import { DatasetStore } from './datasets/dataset-store.js';
import { CheckpointStore } from './store/checkpoints.js';
import { Store } from './store/store.js';

export interface CoordinatorOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly host?: string;
  readonly dataDir: string;
  /** The researcher token; generated on first start and kept in dataDir when absent. */
  readonly token?: string;
  /**
   * Largest message a worker may send. The default fits a 1%-density update of
   * the largest model allowed; runs whose updates would not fit are refused at creation.
   */
  readonly maxMessageBytes?: number;
  readonly log?: (message: string) => void;
  /** The built web client to serve at `/` and `/dashboard/` (apps/web-worker-client/dist). */
  readonly webRoot?: string;
  /**
   * Web origins besides the coordinator's own whose pages may use the API and
   * socket.io (`ORIGINS`); default none: same-origin only.
   */
  readonly allowedOrigins?: readonly string[];
  /** Largest data set upload in bytes (`DATASET_MAX_BYTES`); default 512 MB. */
  readonly datasetMaxBytes?: number;
  /**
   * HTTP requests per minute one client address may make (`HTTP_RATE_LIMIT`, default
   * 1200); 0 turns the limit off.
   */
  readonly requestsPerMinute?: number;
  /** Behind a reverse proxy: trust its `X-Forwarded-For` for client addresses (`TRUST_PROXY`). */
  readonly trustProxy?: boolean | string;
  /**
   * A run to create when the database holds none (the demo run of a first start). It is
   * created before the coordinator listens: the first answer of `/api/health` means it exists.
   */
  readonly initialRun?: RunConfigInput;
  /**
   * Limits on worker connections, new identities, pulls and bytes sent (`WORKER_LIMITS_*`,
   * `TRUST_PROXY`); unset fields keep {@link DEFAULT_WORKER_LIMITS}.
   */
  readonly workerLimits?: Partial<WorkerLimits>;
  /** How long and how many worker identities are kept (`IDENTITY_TTL_HOURS`, `IDENTITIES_KEPT`). */
  readonly identityRetention?: Partial<IdentityRetention>;
}

export interface Coordinator {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly manager: RunManager;
  /** Largest message a client may send (socket.io's `maxHttpBufferSize`). */
  readonly maxMessageBytes: number;
  /** The id of `initialRun` when this start created it. */
  readonly initialRunId: string | undefined;
  /** The weights replies of this process: its restart epoch and its dense encodings. */
  readonly weightsReplies: WeightsReplies;
  close(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = maxUpdateMessageBytes(
  MAX_PARAMETER_COUNT,
  MAX_PARAMETER_COUNT / 100,
  'f32',
);

/** Starts the whole coordinator: database, checkpoints, evaluator, HTTP API and socket.io. */
export async function startCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const log =
    options.log ??
    ((message: string) => {
      console.log(message);
    });
  await mkdir(options.dataDir, { recursive: true });
  // Before anything else: a coordinator with a guessable token must not start at all.
  const token =
    options.token === undefined
      ? await researcherToken(options.dataDir)
      : checkResearcherToken(options.token, 'COORDINATOR_TOKEN');
  // The main thread builds models to initialise and export weights.
  await useFastestNodeBackend();
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const store = new Store(join(options.dataDir, 'coordinator.sqlite'));
  const checkpoints = new CheckpointStore(join(options.dataDir, 'checkpoints'));
  const evaluator = new Evaluator();
  const uploads = await DatasetStore.open(
    join(options.dataDir, 'datasets'),
    options.datasetMaxBytes,
  );

  // The listener needs the namespaces and the namespaces need the manager: bind late.
  const notices: { listener?: RunListener } = {};
  const manager = new RunManager({
    store,
    checkpoints,
    evaluator,
    datasets: new DatasetCache(uploads),
    maxMessageBytes,
    log,
    listener: {
      version: (...args) => notices.listener?.version(...args),
      phase: (...args) => notices.listener?.phase(...args),
      runEnded: (...args) => notices.listener?.runEnded(...args),
      metrics: (...args) => notices.listener?.metrics(...args),
      runStatus: (...args) => notices.listener?.runStatus(...args),
      workers: (...args) => notices.listener?.workers(...args),
      runEvent: (...args) => notices.listener?.runEvent(...args),
    },
  });
  const exports = new RunExports(manager, checkpoints, maxMessageBytes, log);
  const originAllowed = originPolicy(options.allowedOrigins);
  const hostAllowed = hostPolicy(ownHostNames(options.host, options.allowedOrigins ?? []));
  const tokenThrottle = new FailedTokenThrottle();
  // Nothing listens before the runs are open, so this is true from the first answer until close.
  let ready = true;
  const app = await buildHttpApp({
    manager,
    token,
    uploads,
    ready: () => ready,
    exportFiles: (runId) => exports.files(runId),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
    originAllowed,
    hostAllowed,
    tokenThrottle,
    storageOk: () => manager.storageFault() === undefined,
    log,
    ...(options.requestsPerMinute === undefined
      ? {}
      : { requestsPerMinute: options.requestsPerMinute }),
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
  });
  const io = new Server(app.server, {
    maxHttpBufferSize: maxMessageBytes,
    serveClient: false,
    // Checked on the handshake and on the websocket upgrade: a refused origin gets 403.
    allowRequest: (request, callback) => {
      callback(
        null,
        hostAllowed(request.headers.host) &&
          originAllowed(request.headers.origin, request.headers.host),
      );
    },
  });
  const identities = new WorkerIdentities(store, {
    ...DEFAULT_IDENTITY_RETENTION,
    ...options.identityRetention,
  });
  const {
    namespace: workers,
    stopSweep,
    replies: weightsReplies,
  } = attachWorkerNamespace(io, manager, identities, {
    limits: { ...DEFAULT_WORKER_LIMITS, ...options.workerLimits },
    // A new history starts with every process: versions of the last one mean other weights.
    epoch: randomBytes(8).toString('hex'),
    log,
  });
  const dashboards = attachDashboardNamespace(io, manager, token, tokenThrottle);
  notices.listener = {
    version: (runId, version) => {
      notifyWaitingWorkers(workers, runId, version);
    },
    phase: (runId, phase) =>
      workers.to(runRoom(runId)).emit('phase', {
        type: 'phase',
        runId,
        phase: phase.phase,
        k: phase.k,
        n: phase.n,
        localSteps: phase.localSteps ?? 1,
      }),
    runEnded: (runId, reason) => {
      workers.to(runRoom(runId)).emit('run-ended', { type: 'run-ended', runId, reason });
      endRunForWorkers(workers, runId);
    },
    metrics: (point) => dashboards.to(dashboardRoom(point.runId)).emit('metrics', point),
    runStatus: (run: RunSummary) => dashboards.emit('run-status', { type: 'run-status', run }),
    workers: (runId, rows) =>
      // The worker table goes to researchers only (anonymous viewers see the counts).
      dashboards
        .to(dashboardWorkersRoom(runId))
        .emit('workers', { type: 'workers', runId, workers: rows }),
    runEvent: (event) => dashboards.to(dashboardRoom(event.runId)).emit('run-event', event),
  };

  await manager.resumeAll();
  let initialRunId: string | undefined;
  if (options.initialRun && manager.listRuns().length === 0) {
    initialRunId = await manager.createRun(options.initialRun);
    log(`created the run ${initialRunId} "${options.initialRun.name}"`);
  }
  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${options.host === '0.0.0.0' ? 'localhost' : (options.host ?? '127.0.0.1')}:${port}`;

  return {
    url,
    port,
    token,
    manager,
    maxMessageBytes,
    initialRunId,
    weightsReplies,
    async close() {
      ready = false;
      await manager.close();
      stopSweep();
      await io.close();
      await app.close();
      await evaluator.close();
      store.close();
    },
  };
}

/**
 * The token kept in dataDir, else a new one written there.
 *
 * @throws ResearcherTokenError when the kept file holds a short or empty token.
 */
async function researcherToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'researcher-token');
  let kept: string;
  try {
    kept = await readFile(path, 'utf8');
  } catch {
    const token = randomBytes(24).toString('base64url');
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    return token;
  }
  return checkResearcherToken(kept.trim(), path);
}
