import { exportRun, type ExportFiles } from '../export/export-run.js';
import type { CheckpointStore } from '../store/checkpoints.js';
import type { RunManager } from './run-manager.js';
import { buildRunModel } from './run-setup.js';

/**
 * A run's export files at its current version: built on first request and
 * cached per (run, version), so repeated downloads of model.json and
 * weights.bin (tf.loadLayersModel fetches both) serialise once.
 */
export class RunExports {
  private cached: { key: string; files: Promise<ExportFiles> } | undefined;

  constructor(
    private readonly manager: RunManager,
    private readonly checkpoints: CheckpointStore,
    private readonly maxMessageBytes: number,
  ) {}

  async files(runId: string): Promise<ExportFiles | undefined> {
    const stored = this.manager.storedRun(runId);
    if (!stored) return undefined;
    const live = this.manager.liveRun(runId);
    const version = live?.engine.version ?? stored.version;
    // The manifest records status and version: a stop at the same version is a new export.
    const key = `${runId}@${version}:${stored.status}`;
    if (this.cached?.key !== key) {
      this.cached = { key, files: this.build(runId, version, live?.engine.weights.slice()) };
    }
    return this.cached.files;
  }

  private async build(
    runId: string,
    version: number,
    liveWeights: Float32Array | undefined,
  ): Promise<ExportFiles> {
    const stored = this.manager.storedRun(runId);
    if (!stored) throw new Error(`run ${runId} vanished during export`);
    const run = { ...stored, version };
    const weights = liveWeights ?? (await this.checkpoints.readLatest(runId))?.weights;
    if (!weights) throw new Error(`run ${runId} has no checkpoint to export`);
    const { model } = await buildRunModel(run.config, this.maxMessageBytes);
    try {
      return await exportRun({
        run,
        model,
        weights,
        metrics: this.manager.getRun(runId)?.latest,
        exportedAt: Date.now(),
      });
    } finally {
      model.dispose();
    }
  }
}
