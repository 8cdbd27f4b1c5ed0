import { randomBytes } from 'node:crypto';
import {
  mkdir,
  open,
  type FileHandle,
  readFile,
  readdir,
  rename,
  rm,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CheckpointError } from './checkpoint-error.js';
import { decodeCheckpoint, encodeCheckpointParts, type Checkpoint } from './checkpoint-format.js';

export type { Checkpoint } from './checkpoint-format.js';

/** Options of {@link CheckpointStore}. */
export interface CheckpointStoreOptions {
  /**
   * Told about everything a restore had to work around: a corrupt checkpoint set aside
   * (and the older one used instead), a leftover temporary file from an interrupted write.
   */
  onWarning?: (message: string) => void;
}

/** Complete checkpoints kept per run: the newest, and one to fall back to if it is damaged. */
export const CHECKPOINTS_KEPT = 2;

/** A run id becomes a directory name: letters, digits, `.`, `_`, `-`, not starting with `.`. */
const SAFE_RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
const CHECKPOINT_FILE = /^ckpt-(0|[1-9][0-9]*)\.bin$/;
const TEMPORARY_FILE = /^ckpt-(0|[1-9][0-9]*)\.bin\.tmp-[0-9a-f]+$/;

/**
 * Checkpoint files of runs, one directory per run under `dir`
 * (docs/architecture.md#around-the-update: a crash
 * never leaves a half-written checkpoint). Layout: `<dir>/<runId>/ckpt-<version>.bin`, in the
 * format of `encodeCheckpoint` (checkpoint-format.ts).
 *
 * A write goes to `ckpt-<version>.bin.tmp-<random>`, is fsynced, renamed over the final
 * name (atomic on POSIX file systems), and the directory is fsynced so the rename itself is
 * durable. A crash at any point leaves either the old set of files plus a temporary one,
 * or the new set: never a final name with partial content. Only the newest
 * {@link CHECKPOINTS_KEPT} are kept.
 *
 * Reads verify each file (SHA-256 trailer and full decode) and fall back from a damaged
 * newest file to the previous one; the damaged file is renamed to `*.corrupt` so it is kept
 * for inspection but no longer counts as one of the kept checkpoints.
 *
 * Calls for the same run are serialised, so a read never cleans up the temporary file of a
 * write in flight. One process owns `dir`: two coordinators on the same directory are not
 * supported.
 */
export class CheckpointStore {
  /** Absolute root directory. */
  readonly dir: string;
  private readonly onWarning: (message: string) => void;
  private readonly queues = new Map<string, Promise<unknown>>();

  /** @param dir - root directory; created on the first write. */
  constructor(dir: string, options: CheckpointStoreOptions = {}) {
    this.dir = resolve(dir);
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  /**
   * Writes `checkpoint` atomically as the run's `ckpt-<version>.bin` (replacing a file of the
   * same version), then deletes all but the newest {@link CHECKPOINTS_KEPT} and any leftover
   * temporary files. The checkpoint is encoded before the disk is touched, so a bad one
   * leaves the directory unchanged.
   *
   * @throws {@link CheckpointError} `invalid-run-id`, `invalid-checkpoint`; file system errors as they are.
   */
  async write(runId: string, checkpoint: Checkpoint): Promise<void> {
    // Encoded before the first await: the caller may change its weights once this returns.
    const runDir = this.runDir(runId);
    const parts = encodeCheckpointParts(checkpoint);
    await this.exclusive(runId, async () => {
      await makeDirectoryDurably(runDir);
      const finalName = checkpointName(checkpoint.version);
      const temporaryPath = join(runDir, `${finalName}.tmp-${randomBytes(8).toString('hex')}`);
      const handle = await open(temporaryPath, 'wx');
      try {
        await writeAll(handle, parts);
        await handle.sync();
      } catch (error) {
        await handle.close();
        await rm(temporaryPath, { force: true });
        throw error;
      }
      await handle.close();
      await rename(temporaryPath, join(runDir, finalName));
      await syncDirectory(runDir);
      await this.prune(runDir);
    });
  }

  /**
   * The newest checkpoint of the run that verifies. A damaged newer file is reported through
   * `onWarning`, renamed to `*.corrupt`, and the next older one is tried; leftover temporary
   * files of interrupted writes are deleted (and reported).
   *
   * @returns undefined when the run has no checkpoint files.
   * @throws {@link CheckpointError} `invalid-run-id`; `no-valid-checkpoint` when files existed
   *   but none verified (all are then set aside, so a retry returns undefined: the caller
   *   must not silently restart a run that had progress).
   */
  async readLatest(runId: string): Promise<Checkpoint | undefined> {
    const runDir = this.runDir(runId);
    return this.exclusive(runId, async () => {
      const names = await listOrEmpty(runDir);
      for (const name of names.filter((n) => TEMPORARY_FILE.test(n))) {
        await unlink(join(runDir, name));
        this.onWarning(
          `checkpoints of run ${runId}: removed ${name}, left by an interrupted write`,
        );
      }
      const failures: string[] = [];
      for (const { name, version } of checkpointFiles(names)) {
        const path = join(runDir, name);
        try {
          const checkpoint = decodeCheckpoint(await readFile(path));
          if (checkpoint.version !== version) {
            throw new CheckpointError(
              'name-mismatch',
              `${name} holds version ${checkpoint.version}`,
            );
          }
          if (failures.length > 0) {
            this.onWarning(`checkpoints of run ${runId}: restored from ${name} instead`);
          }
          return checkpoint;
        } catch (error) {
          if (!(error instanceof CheckpointError)) throw error;
          await rename(path, `${path}.corrupt`);
          failures.push(`${name}: ${error.message}`);
          this.onWarning(
            `checkpoints of run ${runId}: ${name} set aside as corrupt: ${error.message}`,
          );
        }
      }
      if (failures.length > 0) {
        throw new CheckpointError('no-valid-checkpoint', `run ${runId}: ${failures.join('; ')}`);
      }
      return undefined;
    });
  }

  /**
   * Deletes every checkpoint file of the run, its directory included.
   *
   * @throws {@link CheckpointError} `invalid-run-id`.
   */
  async remove(runId: string): Promise<void> {
    const runDir = this.runDir(runId);
    await this.exclusive(runId, () => rm(runDir, { recursive: true, force: true }));
  }

  private runDir(runId: string): string {
    if (!SAFE_RUN_ID.test(runId)) {
      throw new CheckpointError('invalid-run-id', JSON.stringify(runId));
    }
    return join(this.dir, runId);
  }

  /** Runs `task` after every earlier call for the same run has settled. */
  private exclusive<T>(runId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(runId, settled);
    void settled.then(() => {
      if (this.queues.get(runId) === settled) this.queues.delete(runId);
    });
    return result;
  }

  private async prune(runDir: string): Promise<void> {
    const names = await listOrEmpty(runDir);
    const stale = [
      ...checkpointFiles(names)
        .slice(CHECKPOINTS_KEPT)
        .map((file) => file.name),
      // Writes of this run are serialised, so any temporary file now is from a crash.
      ...names.filter((name) => TEMPORARY_FILE.test(name)),
    ];
    for (const name of stale) await rm(join(runDir, name), { force: true });
  }
}

/** Writes the pieces back to back from offset 0, looping over short writes. */
async function writeAll(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  let position = 0;
  for (const part of parts) {
    for (let done = 0; done < part.length;) {
      const { bytesWritten } = await handle.write(part, done, part.length - done, position);
      done += bytesWritten;
      position += bytesWritten;
    }
  }
}

function checkpointName(version: number): string {
  return `ckpt-${version}.bin`;
}

/** Complete checkpoint files, newest version first. */
function checkpointFiles(names: readonly string[]): { name: string; version: number }[] {
  const files: { name: string; version: number }[] = [];
  for (const name of names) {
    const match = CHECKPOINT_FILE.exec(name);
    if (match?.[1] !== undefined) files.push({ name, version: Number(match[1]) });
  }
  return files.sort((a, b) => b.version - a.version);
}

async function listOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** fsync on a directory makes the entries created, renamed or deleted in it durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then fsync the parent of every directory it created so they survive a crash. */
async function makeDirectoryDurably(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  for (let created = dir; ; created = dirname(created)) {
    await syncDirectory(dirname(created));
    if (created === firstCreated || dirname(created) === created) return;
  }
}
