import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import {
  DatasetDescriptionSchema,
  DatasetIdSchema,
  safeParseMessage,
  type DatasetDescription,
} from '@vtrain/protocol';
import { DatasetFileError, inspectDatasetFile, loadDatasetFile } from './dataset-file.js';
import type { DatasetSplits } from '@vtrain/ml';

/** Default largest upload: 512 MB (`DATASET_MAX_BYTES`). */
export const DEFAULT_DATASET_MAX_BYTES = 512 * 1024 * 1024;

const PART_SUFFIX = '.part';

/**
 * Uploaded data sets under `<dataDir>/datasets`: `<id>.safetensors`, the file as uploaded,
 * and `<id>.json`, its {@link DatasetDescription}, written last (a set exists once its
 * description does). An upload streams to `<random>.part`, hashing as it goes, is checked
 * there and only then renamed into place: a refused or interrupted upload leaves nothing
 * behind (a `.part` left by a crash is removed at the next start).
 */
export class DatasetStore {
  private readonly described = new Map<string, DatasetDescription>();

  private constructor(
    readonly directory: string,
    readonly maxBytes: number,
  ) {}

  /** Opens the folder (creating it), drops leftovers of interrupted uploads, reads the descriptions. */
  static async open(
    directory: string,
    maxBytes = DEFAULT_DATASET_MAX_BYTES,
  ): Promise<DatasetStore> {
    await mkdir(directory, { recursive: true });
    const store = new DatasetStore(directory, maxBytes);
    const names = await readdir(directory);
    for (const name of names) {
      if (name.endsWith(PART_SUFFIX)) await rm(join(directory, name), { force: true });
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      let json: unknown;
      try {
        json = JSON.parse(await readFile(join(directory, name), 'utf8'));
      } catch {
        continue; // not a description this store wrote: ignored, as an unknown file
      }
      const parsed = safeParseMessage(DatasetDescriptionSchema, json, 'data set description');
      if (parsed.ok && `${parsed.value.id}.json` === name) {
        store.described.set(parsed.value.id, parsed.value);
      }
    }
    return store;
  }

  list(): DatasetDescription[] {
    return [...this.described.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  get(id: string): DatasetDescription | undefined {
    return this.described.get(id);
  }

  /** Path of a set's safetensors file. */
  pathOf(id: string): string {
    if (!DatasetIdSchema.safeParse(id).success) throw new Error(`not a data set id: ${id}`);
    return join(this.directory, `${id}.safetensors`);
  }

  /**
   * Takes an upload: streams `body` to a temporary file (never more than `maxBytes` of it),
   * hashing as it goes, checks the file ({@link inspectDatasetFile}), then renames it into
   * place and writes its description.
   *
   * @param declaredBytes - the request's Content-Length, when given: refused at once if too large.
   * @throws {@link DatasetFileError} (`too-large` and the format checks); nothing is kept.
   */
  async upload(
    body: Readable,
    name: string,
    declaredBytes: number | undefined,
    now = Date.now(),
  ): Promise<DatasetDescription> {
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) {
      body.resume(); // drain, so the client reads the answer
      throw new DatasetFileError(
        'too-large',
        `${declaredBytes} bytes, the limit is ${this.maxBytes}`,
      );
    }
    const id = randomUUID();
    const part = join(this.directory, `${id}${PART_SUFFIX}`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const out = createWriteStream(part, { flags: 'wx' });
      const written = once(out, 'close');
      try {
        // Read to the end even past the limit (discarding): a client gets its 413 only
        // once it has sent its body, and destroying the request would cut the answer too.
        for await (const chunk of body as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > this.maxBytes) continue;
          hash.update(chunk);
          if (!out.write(chunk)) await once(out, 'drain');
        }
      } finally {
        out.end();
        await written;
      }
      if (bytes > this.maxBytes) {
        throw new DatasetFileError('too-large', `${bytes} bytes, the limit is ${this.maxBytes}`);
      }
      const layout = await inspectDatasetFile(part);
      const description: DatasetDescription = {
        id,
        name,
        examples: layout.examples,
        testExamples: layout.testExamples,
        testSet: layout.testSet,
        inputShape: layout.inputShape,
        inputDtype: layout.inputDtype,
        classes: layout.classes,
        bytes,
        sha256: hash.digest('hex'),
        createdAt: now,
      };
      await rename(part, this.pathOf(id));
      const json = join(this.directory, `${id}.json`);
      await writeFile(`${json}${PART_SUFFIX}`, `${JSON.stringify(description, null, 2)}\n`);
      await rename(`${json}${PART_SUFFIX}`, json);
      this.described.set(id, description);
      return description;
    } catch (error) {
      await rm(part, { force: true });
      await rm(this.pathOf(id), { force: true });
      throw error;
    }
  }

  /** Removes a set (the caller checks no active run uses it); false if there is none. */
  async remove(id: string): Promise<boolean> {
    if (!this.described.has(id)) return false;
    this.described.delete(id);
    await rm(join(this.directory, `${id}.json`), { force: true });
    await rm(this.pathOf(id), { force: true });
    return true;
  }

  /**
   * A set's training and test sets, after checking the file's SHA-256 against the one
   * recorded at upload.
   *
   * @throws {@link DatasetFileError} `checksum-mismatch`; Error for an unknown id.
   */
  async load(id: string): Promise<DatasetSplits> {
    const description = this.described.get(id);
    if (!description) throw new Error(`no uploaded data set ${id}`);
    return loadDatasetFile(this.pathOf(id), description.sha256);
  }
}
