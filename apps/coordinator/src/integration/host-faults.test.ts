import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DASHBOARD_NAMESPACE,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type RunConfigInput,
  type RunStatusNotice,
  type RunSummary,
} from '@vtrain/protocol';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../server.js';
import { TestCoordinator, waitFor } from './harness.js';
import {
  HELLO,
  connectRawWorker,
  connectSocket,
  sparsePayload,
  type RawSocket,
} from './raw-worker.js';

/*
 * Host faults: the disk fills up under a live run, worker-reported counters reach 2^53, the
 * series grows long. The coordinator stays up, serves reads, refuses updates with a reason
 * while nothing can be made durable, shows the fault, and carries on when space returns,
 * losing nothing that was durable.
 */

type DashboardSocket = Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>;

const TOKEN = 'host-faults-researcher-token';

const config: RunConfigInput = {
  name: 'host faults',
  dataset: { name: 'synthetic', shards: 1 },
  model: { kind: 'mlp', hiddenUnits: [8] },
  schedule: { kind: 'async' },
  checkpoint: { everyVersions: 5, everySeconds: 1 },
  stop: { maxSeconds: 3600 },
};

interface Pusher {
  readonly socket: RawSocket;
  push(samples?: number): Promise<{ type: string; status?: string; reason?: string }>;
}

async function joinWorker(coordinator: Coordinator, runId: string): Promise<Pusher> {
  const socket = await connectRawWorker(coordinator.url);
  await socket.emitWithAck('hello', HELLO);
  let seq = 0;
  return {
    socket,
    async push(samples = 32) {
      const live = coordinator.manager.liveRun(runId);
      if (!live) throw new Error('run not live');
      const reply = (await socket.emitWithAck('update', {
        type: 'update',
        runId,
        seq,
        baseVersion: live.engine.version,
        steps: 1,
        samples,
        trainLoss: 1,
        computeMs: 5,
        payload: sparsePayload(live.engine.parameterCount, [[seq % 7, 0.001]]),
      })) as { type: string; status?: string; reason?: string };
      if (reply.type === 'ack') seq += 1;
      return reply;
    },
  };
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function coordinatorRun(coordinator: Coordinator, runId: string): Promise<RunSummary> {
  return (await getJson(`${coordinator.url}/api/runs/${runId}`)).body as RunSummary;
}

/** Whether this process may mount a tmpfs (root on Linux); the disk-full test needs one. */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'vtrain-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Writes zeros to `path` until the file system refuses (ENOSPC); returns the bytes written. */
async function fillDisk(path: string): Promise<number> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += (await file.write(chunk)).bytesWritten;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
    // The last partial pages too.
    for (const size of [4096, 512, 1]) {
      for (;;) {
        try {
          written += (await file.write(Buffer.alloc(size))).bytesWritten;
        } catch {
          break;
        }
      }
    }
  } finally {
    await file.close().catch(() => undefined);
  }
  return written;
}

describe.skipIf(!canMountTmpfs())('a full disk under a live run (tmpfs)', () => {
  let mountPoint: string;
  let coordinator: Coordinator;
  const logged: string[] = [];

  beforeAll(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'vtrain-full-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    await coordinator.close().catch(() => undefined);
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('stays up, serves reads, refuses updates as storage-unavailable, shows it, and recovers', async () => {
    const dataDir = join(mountPoint, 'data');
    const start = (): Promise<Coordinator> =>
      startCoordinator({ port: 0, dataDir, token: TOKEN, log: (line) => logged.push(line) });
    coordinator = await start();
    const runId = await coordinator.manager.createRun(config);
    const worker = await joinWorker(coordinator, runId);
    const dashboard = await connectSocket<DashboardSocket>(coordinator.url, DASHBOARD_NAMESPACE, {
      auth: { token: TOKEN },
    });
    const notices: { run: Pick<RunStatusNotice['run'], 'id' | 'fault'> }[] = [];
    dashboard.on('run-status', (notice) => notices.push(notice));
    try {
      for (let i = 0; i < 6; i++) expect(await worker.push()).toMatchObject({ status: 'applied' });
      const durableBefore = await waitFor('a checkpoint at version 5', 30_000, () => {
        const version = coordinator.manager.storedRun(runId)?.version ?? 0;
        return Promise.resolve(version >= 5 ? version : undefined);
      });

      const filler = join(mountPoint, 'filler');
      const filled = await fillDisk(filler);
      expect(filled).toBeGreaterThan(0);

      // Updates go on until a write fails (the next checkpoint, or a metrics point), then
      // they are refused with the reason, not applied with nothing durable behind them.
      const refusal = await waitFor('a storage-unavailable refusal', 60_000, async () => {
        const reply = await worker.push();
        if (reply.type === 'reject') return reply;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
      expect(refusal).toMatchObject({ type: 'reject', reason: 'storage-unavailable' });
      const versionAtFault = coordinator.manager.liveRun(runId)?.engine.version ?? -1;
      // Still refused, and the model does not move.
      expect(await worker.push()).toMatchObject({ reason: 'storage-unavailable' });
      expect(coordinator.manager.liveRun(runId)?.engine.version).toBe(versionAtFault);

      // Reads are served and show the fault.
      const list = await getJson(`${coordinator.url}/api/runs`);
      expect(list.status).toBe(200);
      const run = (await getJson(`${coordinator.url}/api/runs/${runId}`)) as {
        status: number;
        body: RunSummary;
      };
      expect(run.status).toBe(200);
      expect(run.body.fault).toMatchObject({ code: 'storage-unavailable' });
      const health = await getJson(`${coordinator.url}/api/health`);
      expect(health.body).toMatchObject({ ready: true, storage: 'unavailable' });
      expect((await fetch(`${coordinator.url}/api/runs/${runId}/metrics`)).status).toBe(200);
      await waitFor('the fault on the dashboard', 10_000, () =>
        Promise.resolve(notices.find((n) => n.run.id === runId && n.run.fault !== undefined)),
      );
      // A run cannot be created meanwhile: a clear 503, not an internal error.
      const create = await fetch(`${coordinator.url}/api/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(config),
      });
      expect(create.status).toBe(503);
      expect(await create.json()).toMatchObject({ error: 'storage-unavailable' });

      // Space returns: the periodic retry makes a checkpoint, the fault clears, updates apply.
      await rm(filler);
      await waitFor('updates applied again', 60_000, async () => {
        const reply = await worker.push();
        if (reply.type === 'ack') return reply;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return undefined;
      });
      const recovered = await coordinatorRun(coordinator, runId);
      expect(recovered.fault).toBeUndefined();
      expect((await getJson(`${coordinator.url}/api/health`)).body).toMatchObject({
        storage: 'ok',
      });
      await waitFor('the cleared fault on the dashboard', 10_000, () =>
        Promise.resolve(notices.at(-1)?.run.fault === undefined ? true : undefined),
      );
      expect(
        logged.some(
          (line) =>
            /checkpoint of run .* failed: .*ENOSPC/.test(line) || /not recorded: .*full/.test(line),
        ),
      ).toBe(true);

      // Nothing durable was lost: a restart resumes at least where the last good checkpoint was.
      const versionBeforeRestart = coordinator.manager.liveRun(runId)?.engine.version ?? -1;
      worker.socket.disconnect();
      dashboard.disconnect();
      await coordinator.close();
      coordinator = await start();
      const resumed = coordinator.manager.liveRun(runId)?.engine.version ?? -1;
      expect(resumed).toBeGreaterThanOrEqual(durableBefore);
      expect(resumed).toBe(versionBeforeRestart); // close() wrote the final checkpoint
    } finally {
      worker.socket.disconnect();
      dashboard.disconnect();
    }
  });
});

describe('cumulative counters near 2^53', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('saturate at 2^53 - 1: metrics stay valid, and a checkpoint past it still resumes', async () => {
    const runId = await coordinator.createRun(config);
    const live = coordinator.coordinator.manager.liveRun(runId);
    if (!live) throw new Error('run not live');
    // As if the run had already counted this many samples (1e9 per update is allowed).
    live.engine.counters.samples = Number.MAX_SAFE_INTEGER - 1000;
    const worker = await joinWorker(coordinator.coordinator, runId);
    try {
      for (let i = 0; i < 3; i++) {
        expect(await worker.push(1e9)).toMatchObject({ status: 'applied' });
      }
      expect(live.engine.counters.samples).toBe(Number.MAX_SAFE_INTEGER);
      const point = await waitFor('a metrics point at the saturated count', 20_000, async () => {
        const run = await coordinator.run(runId);
        return run.latest?.samples === Number.MAX_SAFE_INTEGER ? run.latest : undefined;
      });
      expect(point.samples).toBe(Number.MAX_SAFE_INTEGER);
    } finally {
      worker.socket.disconnect();
    }
    // A checkpoint written by an older coordinator could hold more: it must not crash-loop.
    live.engine.counters.bytesIn = 2 ** 60;
    live.engine.counters.updatesRejected.stale = 2 ** 55;
    await coordinator.restart();
    const resumed = coordinator.coordinator.manager.liveRun(runId);
    expect(resumed?.engine.counters.bytesIn).toBe(Number.MAX_SAFE_INTEGER);
    expect(resumed?.engine.counters.updatesRejected.stale).toBe(Number.MAX_SAFE_INTEGER);
    const before = (await coordinator.metrics(runId)).length;
    await waitFor('a metrics point after the restart', 20_000, async () =>
      (await coordinator.metrics(runId)).length > before ? true : undefined,
    );
  });
});

describe('run summaries', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('come from the maintained figures row, not the series', async () => {
    const runId = await coordinator.createRun(config);
    const latest = await waitFor(
      'a first metrics point',
      20_000,
      async () => (await coordinator.run(runId)).latest,
    );
    await coordinator.api(`/api/runs/${runId}/stop`, { method: 'POST' });
    const stopped = await coordinator.run(runId);
    await coordinator.restart();
    // Empty the series behind the coordinator's back: the summaries do not read it.
    const db = new Database(join(coordinator.dataDir, 'coordinator.sqlite'));
    const removed = db.prepare('DELETE FROM metrics WHERE run_id = ?').run(runId).changes;
    db.close();
    expect(removed).toBeGreaterThan(0);
    expect(latest.runId).toBe(runId);
    const after = await coordinator.run(runId);
    expect(after.latest).toEqual(stopped.latest);
    expect(after.fullEvaluation).toEqual(stopped.fullEvaluation);
    expect(after.fullEvaluation).toBeDefined();
    const list = (await coordinator.api('/api/runs')).body as RunSummary[];
    expect(list.find((r) => r.id === runId)?.latest).toEqual(stopped.latest);
    expect(await coordinator.metrics(runId)).toEqual([]);
  });
});
