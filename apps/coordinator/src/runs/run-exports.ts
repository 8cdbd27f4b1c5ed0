import { exportRun, type ExportFiles } from '../export/export-run.js';
import type { CheckpointStore } from '../store/checkpoints.js';
import type { RunManager } from './run-manager.js';
import { manifestDataset } from '../export/manifest.js';
import { buildRunModel } from './run-setup.js';

/**
 * A run's export files at its current version: built on first request and
 * cached per (run, version), so repeated downloads of model.json and
 * weights.bin (tf.loadLayersModel fetches both) serialise once. The manifest's
 * accuracy is that of the exported weights on the whole test set: the run's own
 * figures when it evaluated that version on the whole set (a final evaluation),
 * else an evaluation made for the export.
 */
export class RunExports {
  private cached: { key: string; files: Promise<ExportFiles> } | undefined;

  constructor(
    private readonly manager: RunManager,
    private readonly checkpoints: CheckpointStore,
    private readonly maxMessageBytes: number,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  async files(runId: string): Promise<ExportFiles | undefined> {
    const stored = this.manager.storedRun(runId);
    if (!stored) return undefined;
    const live = this.manager.liveRun(runId);
    const version = live?.engine.version ?? stored.version;
    // The manifest records status and version: a stop at the same version is a new export.
    const key = `${runId}@${version}:${stored.status}`;
    if (this.cached?.key !== key) {
      const snapshot = live && { version, weights: live.engine.weights.slice() };
      const files = this.build(runId, snapshot);
      this.cached = { key, files };
      // A failed build is not kept: the next request tries again.
      files.catch(() => {
        if (this.cached?.files === files) this.cached = undefined;
      });
    }
    return this.cached.files;
  }

  private async build(
    runId: string,
    liveSnapshot: { version: number; weights: Float32Array } | undefined,
  ): Promise<ExportFiles> {
    const stored = this.manager.storedRun(runId);
    if (!stored) throw new Error(`run ${runId} vanished during export`);
    const snapshot = liveSnapshot ?? (await this.checkpoints.readLatest(runId));
    if (!snapshot) throw new Error(`run ${runId} has no checkpoint to export`);
    // The manifest's version is the exported weights' own: the checkpoint's for a run that ended.
    const run = { ...stored, version: snapshot.version };
    const evaluation = await this.manager
      .fullEvaluationOf(runId, snapshot.version, snapshot.weights)
      .catch((error: unknown) => {
        this.log(`evaluation of run ${runId} for its export failed: ${String(error)}`);
        return undefined;
      });
    const datasets = this.manager.datasets;
    const { model } = await buildRunModel(
      run.config,
      this.maxMessageBytes,
      datasets.info(run.config.dataset),
    );
    try {
      return await exportRun({
        run,
        model,
        weights: snapshot.weights,
        evaluation,
        metrics: this.manager.getRun(runId)?.latest,
        dataset: manifestDataset(run.config.dataset, datasets),
        exportedAt: Date.now(),
      });
    } finally {
      model.dispose();
    }
  }
}
