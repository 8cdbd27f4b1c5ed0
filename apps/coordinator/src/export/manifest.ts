import { createHash } from 'node:crypto';
import type {
  DatasetSpec,
  Evaluation,
  InputDtype,
  MetricsPoint,
  RunConfig,
  RunDatasetName,
  RunStatus,
} from '@vtrain/protocol';
import type { DatasetCache } from '../runs/run-setup.js';
import type { StoredRun } from '../store/store.js';
import { ExportError } from './export-error.js';

/** One exported file as the manifest lists it. */
export interface ManifestFileEntry {
  /** Path relative to the export's root, e.g. `tfjs/weights.bin`. */
  name: string;
  /** Length in bytes. */
  bytes: number;
  /** SHA-256 of the content, lowercase hex (64 characters). */
  sha256: string;
}

/** The data set a run trained on, as the manifest names it: what the exported model takes. */
export interface ManifestDataset {
  name: RunDatasetName;
  /** Per-example input shape: the model takes [batch, ...inputShape]. */
  inputShape: number[];
  /** u8: inputs were bytes scaled to [0, 1] (v / 255); f32: used as they are. */
  inputDtype: InputDtype;
  /** The model outputs this many logits. */
  classes: number;
  /** An uploaded set's id, its upload name, the SHA-256 of its file and its sizes. */
  upload?: {
    id: string;
    name: string;
    sha256: string;
    examples: number;
    testExamples: number;
    testSet: 'file' | 'held-out';
  };
}

/** The {@link ManifestDataset} of a run's data set spec. */
export function manifestDataset(spec: DatasetSpec, datasets: DatasetCache): ManifestDataset {
  const info = datasets.info(spec);
  const base = {
    name: spec.name,
    inputShape: [...info.inputShape],
    inputDtype: info.inputDtype,
    classes: info.classes,
  };
  if (spec.id === undefined) return base;
  const { id, name, sha256, examples, testExamples, testSet } = datasets.upload(spec);
  return { ...base, upload: { id, name, sha256, examples, testExamples, testSet } };
}

/** `manifest.json` of an export: what was trained, how far, and how to check the files. */
export interface ExportManifest {
  format: 'vtrain-export';
  /**
   * 2: `evaluation` added; `metrics` no longer carries test figures of another version.
   * 3: `dataset` added (shape and classes the model takes; an uploaded set's id and hash).
   */
  formatVersion: 3;
  /** ISO 8601, UTC. */
  exportedAt: string;
  run: {
    id: string;
    name: string;
    status: RunStatus;
    /** ISO 8601, UTC. */
    createdAt: string;
    parameterCount: number;
    /** The version of the exported weights. */
    version: number;
    elapsedSeconds: number;
    endedReason: string | null;
    config: RunConfig;
  };
  /**
   * The evaluation of the exported weights (`run.version`) on the whole test set, with the
   * version it belongs to; null when that version could not be evaluated.
   */
  evaluation: Evaluation | null;
  /** The data set the run trained on: the exported model's input shape and classes. */
  dataset: ManifestDataset;
  /**
   * The run's last metrics point (counters, phase), or null when it has none. Its test
   * figures, if any, are of its own `version`; those of the exported weights are `evaluation`.
   */
  metrics: MetricsPoint | null;
  files: ManifestFileEntry[];
}

/** Input of {@link buildManifest}. */
export interface ManifestInput {
  run: StoredRun;
  /** The whole-test-set evaluation of `run.version`, if it could be evaluated. */
  evaluation: Evaluation | undefined;
  /** The latest metrics point of the run, if any. */
  metrics: MetricsPoint | undefined;
  /** The run's data set ({@link manifestDataset}). */
  dataset: ManifestDataset;
  /** The files the manifest vouches for, in the order to list them. */
  files: readonly { name: string; bytes: Uint8Array }[];
  /** Milliseconds since the Unix epoch. */
  exportedAt: number;
}

/**
 * Builds the manifest of an export: the run's config and progress, the evaluation of the
 * exported version, its latest metrics point, and
 * per file `{ name, bytes, sha256 }` with sha256 = hex(SHA-256(content)) (FIPS 180-4, via
 * node:crypto), so a reader can verify each file it downloads.
 *
 * @throws {@link ExportError} `invalid-argument` for an empty or repeated file name, a
 *   timestamp that is not a valid date, or an evaluation of another version than the run's
 *   or of a sample of the test set.
 */
export function buildManifest(input: ManifestInput): ExportManifest {
  const { run, evaluation, metrics, dataset, files, exportedAt } = input;
  if (evaluation && (evaluation.version !== run.version || evaluation.testSet !== 'full')) {
    throw new ExportError(
      'invalid-argument',
      `evaluation of version ${evaluation.version} (${evaluation.testSet}) for an export of the whole test set at version ${run.version}`,
    );
  }
  const names = new Set<string>();
  for (const { name } of files) {
    if (name === '' || names.has(name)) {
      throw new ExportError('invalid-argument', `file name ${JSON.stringify(name)}`);
    }
    names.add(name);
  }
  return {
    format: 'vtrain-export',
    formatVersion: 3,
    exportedAt: isoDate('exportedAt', exportedAt),
    run: {
      id: run.id,
      name: run.name,
      status: run.status,
      createdAt: isoDate('createdAt', run.createdAt),
      parameterCount: run.parameterCount,
      version: run.version,
      elapsedSeconds: run.elapsedSeconds,
      endedReason: run.endedReason ?? null,
      config: run.config,
    },
    evaluation: evaluation ?? null,
    dataset,
    metrics: metrics ?? null,
    files: files.map(({ name, bytes }) => ({
      name,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })),
  };
}

function isoDate(what: string, milliseconds: number): string {
  const date = new Date(milliseconds);
  if (!Number.isFinite(milliseconds) || Number.isNaN(date.getTime())) {
    throw new ExportError('invalid-argument', `${what} = ${milliseconds}`);
  }
  return date.toISOString();
}
