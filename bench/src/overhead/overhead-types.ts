/** `bench/results/overhead.json`. */
export interface OverheadResult {
  readonly description: string;
  /** The reference: the mean of the bare loop before and after the worker (older files: one run). */
  readonly bareSamplesPerSecond: number;
  readonly bareBeforeSamplesPerSecond?: number;
  readonly bareAfterSamplesPerSecond?: number;
  readonly workerSamplesPerSecond: number;
  readonly ratio: number;
  /** The worker on a local-SGD run of `localSteps` steps per update (one message per H steps). */
  readonly localSteps?: number;
  readonly localStepsWorkerSamplesPerSecond?: number;
  readonly localStepsRatio?: number;
  /**
   * The worker on the demo run's configuration (local SGD, many Adam steps per update),
   * against a bare loop with the same optimizer and batch; measured in the same run.
   */
  readonly demo?: {
    /** Which configuration, in words. */
    readonly label: string;
    readonly localSteps: number;
    readonly batchSize: number;
    /** Length of the worker's counting window. */
    readonly seconds: number;
    readonly bareSamplesPerSecond: number;
    readonly bareBeforeSamplesPerSecond: number;
    readonly bareAfterSamplesPerSecond: number;
    readonly workerSamplesPerSecond: number;
    readonly ratio: number;
    /** `VTRAIN_OVERHEAD_BASELINE_CLI`'s worker on the same configuration, if any. */
    readonly baselineWorkerSamplesPerSecond?: number;
    readonly baselineRatio?: number;
  };
  /** Another build's worker measured in the same run (`VTRAIN_OVERHEAD_BASELINE_CLI`), if any. */
  readonly baselineWorkerSamplesPerSecond?: number;
  readonly baselineRatio?: number;
  /** What that build is (`VTRAIN_OVERHEAD_BASELINE_LABEL`). */
  readonly baselineLabel?: string;
}
