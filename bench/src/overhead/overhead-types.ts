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
  /** Another build's worker measured in the same run (`VTRAIN_OVERHEAD_BASELINE_CLI`), if any. */
  readonly baselineWorkerSamplesPerSecond?: number;
  readonly baselineRatio?: number;
  /** What that build is (`VTRAIN_OVERHEAD_BASELINE_LABEL`). */
  readonly baselineLabel?: string;
}
