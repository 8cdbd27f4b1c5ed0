import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, assignmentDatasetInfo, decodeShard } from '@vtrain/ml';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import { mulberry32 } from '@vtrain/optimizer';
import {
  decodeDenseWeights,
  type Assignment,
  type RunConfigInput,
  type Weights,
  type Welcome,
} from '@vtrain/protocol';
import {
  TrainingEngine,
  applyWeightsMessage,
  flatWeightsFromDense,
  weightsEpoch,
} from '@vtrain/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killHard, spawnCoordinator } from './coordinator-process.js';
import { connectRawWorker, type RawSocket, welcomed, sameBits } from './raw-worker.js';

/*
 * Crash consistency of the workers' copies. Workers hold version w of the
 * killed coordinator's history; the restarted one resumes at its checkpoint
 * c <= w and, trained on by others, reaches and passes w again with other
 * weights. A worker that then asks for "a patch from w" must not get one (nor
 * apply one): every weights message carries the restart epoch, and the next
 * pull of every pre-crash worker brings it to the coordinator's weights bit for bit.
 */

const TOKEN = 'crash-epoch-token';

const config: RunConfigInput = {
  name: 'crash epoch',
  seed: 5,
  dataset: { name: 'synthetic', shards: 3 },
  model: { kind: 'mlp', hiddenUnits: [16] },
  compression: { density: 0.05 },
  schedule: { kind: 'async' },
  evaluation: { everyVersions: 100_000, testExamples: 100 },
  checkpoint: { everyVersions: 10, everySeconds: 86_400 },
  stop: { maxSeconds: 3600 },
};

/** A worker made of the real training engine and weights handling of @vtrain/worker, on a raw socket. */
class EngineWorker {
  private seq = 0;
  private constructor(
    readonly engine: TrainingEngine,
    readonly assignment: Assignment,
    public socket: RawSocket,
    public welcome: Welcome,
  ) {}

  static async join(url: string, seed: number): Promise<EngineWorker> {
    const socket = await connectRawWorker(url);
    const welcome = await welcomed(socket);
    if (!welcome.assignment) throw new Error('no run');
    const assignment = welcome.assignment;
    const info = assignmentDatasetInfo(assignment.dataset);
    const shard = new Uint8Array(
      await (await fetch(new URL(assignment.dataset.shardUrl, url))).arrayBuffer(),
    );
    const engine = new TrainingEngine({
      assignment,
      dataset: decodeShard(shard, info),
      model: await buildModel(assignment.model, info, 0),
      random: mulberry32(seed),
    });
    return new EngineWorker(engine, assignment, socket, welcome);
  }

  /** A new connection under the same identity (the coordinator restarted). */
  async reconnect(url: string): Promise<void> {
    this.socket.disconnect();
    this.socket = await connectRawWorker(url);
    this.welcome = await welcomed(this.socket, this.welcome);
  }

  /** A pull as the session makes it: from the version and epoch held. */
  async pull(): Promise<Weights> {
    const { engine } = this;
    const epoch = weightsEpoch(engine);
    const reply = await this.socket.emitWithAck('pull', {
      type: 'pull',
      runId: this.assignment.runId,
      ...(engine.version === undefined ? {} : { haveVersion: engine.version }),
      ...(epoch === undefined ? {} : { haveEpoch: epoch }),
    });
    if (reply.type !== 'weights') throw new Error(`pull refused: ${reply.message}`);
    const weights = { ...reply, payload: new Uint8Array(reply.payload) } as Weights;
    applyWeightsMessage(engine, weights);
    return weights;
  }

  /** Computes and pushes `count` updates, adopting each ack's weights. */
  async train(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const update = await this.engine.computeUpdate(1);
      const ack = await this.socket.emitWithAck('update', {
        type: 'update',
        runId: this.assignment.runId,
        seq: this.seq++,
        baseVersion: update.baseVersion,
        steps: update.steps,
        samples: update.samples,
        trainLoss: update.trainLoss,
        computeMs: update.computeMs,
        payload: update.payload,
      });
      if (ack.type !== 'ack' || !ack.weights) throw new Error(`update: ${JSON.stringify(ack)}`);
      applyWeightsMessage(this.engine, {
        ...ack.weights,
        payload: new Uint8Array(ack.weights.payload),
      });
    }
  }

  close(): void {
    this.socket.disconnect();
    this.engine.dispose();
  }
}

describe('restart epoch', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    await useFastestNodeBackend();
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it("after SIGKILL and restart, every worker's next pull brings it to the coordinator's weights bit for bit", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-crash-epoch-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let coordinator: ChildProcess = await spawnCoordinator({ port, dataDir, token: TOKEN });
    cleanup.push(() => killHard(coordinator));
    const created = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    const { id } = (await created.json()) as { id: string };
    const version = async (): Promise<number> => {
      const response = await fetch(`${url}/api/runs/${id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return ((await response.json()) as { version: number }).version;
    };

    const before = [await EngineWorker.join(url, 1), await EngineWorker.join(url, 2)];
    cleanup.push(() => {
      for (const worker of before) worker.close();
    });
    for (const worker of before) await worker.pull();
    // Interleaved, so both hold late versions of the first history (past a checkpoint or two).
    for (let round = 0; round < 8; round++) {
      for (const worker of before) await worker.train(2);
    }
    const firstEpoch = before[0]?.welcome.epoch;
    const held = before.map((worker) => worker.engine.version ?? -1);
    const heldWeights = before.map((worker) => worker.engine.global.slice());
    await killHard(coordinator);

    coordinator = await spawnCoordinator({ port, dataDir, token: TOKEN });
    const resumedAt = await version();
    expect(resumedAt).toBeLessThan(Math.max(...held));

    // Another worker takes the new history past every version the others hold.
    const after = await EngineWorker.join(url, 3);
    cleanup.push(() => {
      after.close();
    });
    expect(after.welcome.epoch).not.toBe(firstEpoch);
    await after.pull();
    // At the version the furthest worker holds, that worker is sent the new history's weights
    // and loses the reply (a disconnect mid-flight): the coordinator's record of its copy now
    // says that version, in this epoch, while the worker holds that version of the old one.
    const furthest = held.indexOf(Math.max(...held));
    const unlucky = before[furthest];
    if (!unlucky) throw new Error('no worker');
    while ((after.engine.version ?? 0) < Math.max(...held)) await after.train(1);
    await unlucky.reconnect(url);
    const lost = await unlucky.socket.emitWithAck('pull', { type: 'pull', runId: id });
    expect(lost).toMatchObject({ type: 'weights', version: Math.max(...held) });
    const target = Math.max(...held) + 3;
    while ((after.engine.version ?? 0) < target) await after.train(1);
    const finalVersion = await version();
    // The coordinator's weights at that version, as any worker holding nothing gets them.
    const reference = await after.socket.emitWithAck('pull', { type: 'pull', runId: id });
    if (reference.type !== 'weights' || reference.encoding !== 'dense') {
      throw new Error('expected the dense weights');
    }
    expect(reference.version).toBe(finalVersion);
    const coordinatorWeights = flatWeightsFromDense(
      decodeDenseWeights(new Uint8Array(reference.payload), {
        maxTensors: after.engine.layout.length,
        maxElements: after.engine.parameterCount,
      }),
      after.engine.layout,
    );

    console.log(
      `crash epoch: workers held versions ${held.join(', ')} of epoch ${firstEpoch}; ` +
        `resumed at ${resumedAt}, retrained to ${finalVersion} in epoch ${after.welcome.epoch}`,
    );
    for (const [i, worker] of before.entries()) {
      if (worker !== unlucky) await worker.reconnect(url);
      // Without the epoch the unlucky one would be answered "a patch from <its version>".
      const weights = await worker.pull();
      // Its version number exists in the new history, with other weights: the dense model.
      expect(weights.encoding).toBe('dense');
      expect(weights.epoch).toBe(after.welcome.epoch);
      expect(worker.engine.version).toBe(finalVersion);
      expect(sameBits(worker.engine.global, coordinatorWeights)).toBe(true);
      expect(sameBits(heldWeights[i] ?? new Float32Array(0), coordinatorWeights)).toBe(false);
    }
    // And from there on, patches of this epoch apply.
    for (const worker of before) {
      await worker.train(1);
      expect(weightsEpoch(worker.engine)).toBe(after.welcome.epoch);
    }
  }, 300_000);
});
