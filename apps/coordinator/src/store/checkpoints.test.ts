import { fork } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay, setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error.js';
import type { Checkpoint } from './checkpoint-format.js';
import { CheckpointStore } from './checkpoints.js';
import { CRASH_PARAMETER_COUNT, crashBaseWeights } from './test-support/crash-pattern.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vtrain-ckpt-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function checkpoint(version: number): Checkpoint {
  return {
    version,
    elapsedSeconds: version * 2,
    savedAt: 1000 + version,
    weights: Float32Array.of(version, -0, 0.5, 1e-40),
    optimizer: {
      kind: 'momentum',
      step: version,
      buffers: { momentum: Float32Array.of(1, 2, 3, version) },
    },
    schedule: { version, batch: [] },
    extra: { applied: version },
  };
}

function files(runId = 'run-1'): string[] {
  const runDir = join(dir, runId);
  return existsSync(runDir) ? readdirSync(runDir).sort() : [];
}

async function rejection(promise: Promise<unknown>): Promise<CheckpointError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return error as CheckpointError;
  }
  throw new Error('expected a CheckpointError, the promise resolved');
}

describe('CheckpointStore', () => {
  it('writes and reads back bit-exactly, also from a new instance', async () => {
    await new CheckpointStore(dir).write('run-1', checkpoint(7));
    const read = await new CheckpointStore(dir).readLatest('run-1');
    expect(read).toEqual(checkpoint(7));
    expect(Object.is(read?.weights[1], -0)).toBe(true);
    expect(files()).toEqual(['ckpt-7.bin']);
  });

  it('returns undefined for a run without checkpoints', async () => {
    expect(await new CheckpointStore(dir).readLatest('never-written')).toBeUndefined();
  });

  it('keeps the newest two versions', async () => {
    const store = new CheckpointStore(dir);
    for (const version of [1, 2, 10, 3]) await store.write('run-1', checkpoint(version));
    // Newest by version, not by write order: 10 and 3 stay, 1 and 2 go.
    expect(files()).toEqual(['ckpt-10.bin', 'ckpt-3.bin']);
    expect((await store.readLatest('run-1'))?.version).toBe(10);
  });

  it('serialises concurrent writes of one run', async () => {
    const store = new CheckpointStore(dir);
    await Promise.all([1, 2, 3, 4, 5].map((v) => store.write('run-1', checkpoint(v))));
    expect(files()).toEqual(['ckpt-4.bin', 'ckpt-5.bin']);
  });

  it('snapshots the checkpoint when write is called', async () => {
    const store = new CheckpointStore(dir);
    const saved = checkpoint(1);
    const writing = store.write('run-1', saved);
    saved.weights[0] = 999;
    await writing;
    expect((await store.readLatest('run-1'))?.weights[0]).toBe(1);
  });

  it.each([
    [
      'truncated',
      (path: string) => {
        truncateSync(path, 100);
      },
    ],
    [
      'bit-flipped',
      (path: string) => {
        const bytes = readFileSync(path);
        bytes[200] = (bytes[200] ?? 0) ^ 0x10;
        writeFileSync(path, bytes);
      },
    ],
  ])('falls back to the previous checkpoint when the newest is %s', async (_, damage) => {
    const warnings: string[] = [];
    const store = new CheckpointStore(dir, { onWarning: (w) => warnings.push(w) });
    await store.write('run-1', checkpoint(1));
    await store.write('run-1', checkpoint(2));
    damage(join(dir, 'run-1', 'ckpt-2.bin'));

    expect(await store.readLatest('run-1')).toEqual(checkpoint(1));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/ckpt-2\.bin set aside as corrupt: (hash-mismatch|truncated)/);
    expect(warnings[1]).toContain('restored from ckpt-1.bin instead');
    expect(files()).toEqual(['ckpt-1.bin', 'ckpt-2.bin.corrupt']);

    // The damaged file no longer counts: two more writes keep two verified checkpoints.
    await store.write('run-1', checkpoint(3));
    await store.write('run-1', checkpoint(4));
    expect(files()).toEqual(['ckpt-2.bin.corrupt', 'ckpt-3.bin', 'ckpt-4.bin']);
  });

  it('treats a file renamed to another version as corrupt', async () => {
    const warnings: string[] = [];
    const store = new CheckpointStore(dir, { onWarning: (w) => warnings.push(w) });
    await store.write('run-1', checkpoint(1));
    await store.write('run-1', checkpoint(2));
    renameSync(join(dir, 'run-1', 'ckpt-2.bin'), join(dir, 'run-1', 'ckpt-9.bin'));
    expect((await store.readLatest('run-1'))?.version).toBe(1);
    expect(warnings[0]).toContain('name-mismatch');
  });

  it('refuses to restart silently when no checkpoint verifies', async () => {
    const store = new CheckpointStore(dir, { onWarning: () => undefined });
    await store.write('run-1', checkpoint(1));
    truncateSync(join(dir, 'run-1', 'ckpt-1.bin'), 10);
    expect((await rejection(store.readLatest('run-1'))).code).toBe('no-valid-checkpoint');
  });

  it('ignores and removes a temporary file left by a crash', async () => {
    const warnings: string[] = [];
    const store = new CheckpointStore(dir, { onWarning: (w) => warnings.push(w) });
    await store.write('run-1', checkpoint(1));
    // What a crash between open and rename leaves: a newer version, half written.
    const full = readFileSync(join(dir, 'run-1', 'ckpt-1.bin'));
    writeFileSync(join(dir, 'run-1', 'ckpt-2.bin.tmp-0123abcd'), full.subarray(0, 50));

    expect((await store.readLatest('run-1'))?.version).toBe(1);
    expect(files()).toEqual(['ckpt-1.bin']);
    expect(warnings).toEqual([
      'checkpoints of run run-1: removed ckpt-2.bin.tmp-0123abcd, left by an interrupted write',
    ]);
  });

  it('removes a leftover temporary file on the next write too', async () => {
    const store = new CheckpointStore(dir);
    await store.write('run-1', checkpoint(1));
    writeFileSync(join(dir, 'run-1', 'ckpt-2.bin.tmp-ff'), 'partial');
    await store.write('run-1', checkpoint(2));
    expect(files()).toEqual(['ckpt-1.bin', 'ckpt-2.bin']);
  });

  it('leaves the directory unchanged when the checkpoint is invalid', async () => {
    const store = new CheckpointStore(dir);
    await store.write('run-1', checkpoint(1));
    const bad = { ...checkpoint(2), weights: Float32Array.of(Number.NaN, 0, 0, 0) };
    expect((await rejection(store.write('run-1', bad))).code).toBe('invalid-checkpoint');
    expect(files()).toEqual(['ckpt-1.bin']);
  });

  it('refuses run ids that are not plain directory names', async () => {
    const store = new CheckpointStore(dir);
    for (const runId of ['', '.', '..', '../escape', 'a/b', '.hidden', 'x'.repeat(65)]) {
      expect((await rejection(store.write(runId, checkpoint(1)))).code).toBe('invalid-run-id');
      expect((await rejection(store.readLatest(runId))).code).toBe('invalid-run-id');
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes a run', async () => {
    const store = new CheckpointStore(dir);
    await store.write('run-1', checkpoint(1));
    await store.write('run-2', checkpoint(1));
    await store.remove('run-1');
    expect(readdirSync(dir)).toEqual(['run-2']);
    expect(await store.readLatest('run-1')).toBeUndefined();
    await store.remove('run-1');
  });

  it('never leaves the latest checkpoint corrupt when the writer is killed mid-write', async () => {
    const packageDir = fileURLToPath(new URL('../..', import.meta.url));
    const writer = fileURLToPath(
      new URL('./test-support/checkpoint-crash-writer.ts', import.meta.url),
    );
    const runDir = join(dir, 'crash');
    const base = crashBaseWeights();
    const versionOf = (name: string) => Number(/^ckpt-(\d+)\.bin$/.exec(name)?.[1] ?? -1);
    let next = 1;
    let killedMidWrite = 0;

    for (let trial = 0; trial < 3; trial++) {
      const child = fork(writer, [dir, 'crash', String(next)], {
        cwd: packageDir,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      // Kill as soon as a complete checkpoint of this trial exists and the next write has
      // created its temporary file: the moment a non-atomic writer would be caught half-done.
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the writer exited early: ${stderr}`);
        const names = existsSync(runDir) ? readdirSync(runDir) : [];
        const complete = names.some((name) => versionOf(name) >= next);
        if (complete && names.some((name) => name.includes('.tmp-'))) break;
        await yieldToLoop();
      }
      // 0, 4 and 8 ms later: early in the data, later in the data or fsync, around the rename.
      if (trial > 0) await delay(4 * trial);
      child.kill('SIGKILL');
      await exited;
      if (readdirSync(runDir).some((name) => name.includes('.tmp-'))) killedMidWrite++;

      const warnings: string[] = [];
      const store = new CheckpointStore(dir, { onWarning: (w) => warnings.push(w) });
      const latest = await store.readLatest('crash');
      expect(warnings.filter((w) => !w.includes('left by an interrupted write'))).toEqual([]);
      expect(latest).toBeDefined();
      if (latest === undefined) return;
      expect(latest.version).toBeGreaterThanOrEqual(next);
      expect(latest.weights.length).toBe(CRASH_PARAMETER_COUNT);
      base[0] = latest.version;
      expect(
        Buffer.compare(
          Buffer.from(latest.weights.buffer, latest.weights.byteOffset, latest.weights.byteLength),
          Buffer.from(base.buffer),
        ),
      ).toBe(0);
      expect(latest.optimizer.step).toBe(latest.version);
      expect(files('crash').every((name) => /^ckpt-\d+\.bin$/.test(name))).toBe(true);
      next = latest.version + 1;
    }
    // The kill landed between the temporary file's creation and its rename at least once.
    expect(killedMidWrite).toBeGreaterThan(0);
  });
});
