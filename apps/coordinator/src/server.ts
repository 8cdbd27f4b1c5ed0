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
import { originPolicy } from './http/origin-policy.js';
import { attachDashboardNamespace, dashboardRoom } from './net/dashboard-namespace.js';
import {
  attachWorkerNamespace,
  endRunForWorkers,
  notifyWaitingWorkers,
  runRoom,
} from './net/worker-namespace.js';
import { WorkerIdentities } from './net/worker-identities.js';
import { RunManager, type RunListener } from './runs/run-manager.js';
import { DatasetCache } from './runs/run-setup.js';
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
  /**
   * A run to create when the database holds none (the demo run of a first start). It is
   * created before the coordinator listens: the first answer of `/api/health` means it exists.
   */
  readonly initialRun?: RunConfigInput;
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
  // The main thread builds models to initialise and export weights.
  await useFastestNodeBackend();
  const token = options.token ?? (await researcherToken(options.dataDir));
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const store = new Store(join(options.dataDir, 'coordinator.sqlite'));
  const checkpoints = new CheckpointStore(join(options.dataDir, 'checkpoints'));
  const evaluator = new Evaluator();

  // The listener needs the namespaces and the namespaces need the manager: bind late.
  const notices: { listener?: RunListener } = {};
  const manager = new RunManager({
    store,
    checkpoints,
    evaluator,
    datasets: new DatasetCache(),
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
  // Nothing listens before the runs are open, so this is true from the first answer until close.
  let ready = true;
  const app = buildHttpApp({
    manager,
    token,
    ready: () => ready,
    exportFiles: (runId) => exports.files(runId),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
    originAllowed,
  });
  const io = new Server(app.server, {
    maxHttpBufferSize: maxMessageBytes,
    serveClient: false,
    // Checked on the handshake and on the websocket upgrade: a refused origin gets 403.
    allowRequest: (request, callback) => {
      callback(null, originAllowed(request.headers.origin, request.headers.host));
    },
  });
  const { namespace: workers, stopSweep } = attachWorkerNamespace(
    io,
    manager,
    new WorkerIdentities(store),
  );
  const dashboards = attachDashboardNamespace(io, manager, token);
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
      dashboards
        .to(dashboardRoom(runId))
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

/** COORDINATOR_TOKEN, else the token kept in dataDir, else a new one written there. */
async function researcherToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'researcher-token');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const token = randomBytes(24).toString('base64url');
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    return token;
  }
}
