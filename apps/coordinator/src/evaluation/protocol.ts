import type { ModelSpec, TestSet } from '@vtrain/protocol';
import type { EvaluationDataset } from '../runs/run-setup.js';

/** Main thread -> evaluation thread. */
export interface EvaluationRequest {
  readonly id: number;
  /** Models are cached per run: the architecture of a run never changes. */
  readonly runId: string;
  readonly model: ModelSpec;
  /** The run's data set: a built-in name, or an uploaded file the thread reads itself. */
  readonly dataset: EvaluationDataset;
  readonly seed: number;
  /** A copy of the global weights, transferred (not shared) to the thread. */
  readonly weights: Float32Array;
  /**
   * Evaluate on the run's fixed random sample of this many held-out examples
   * (`evaluationSample(testCount, sample, seed)`); on the whole test set when absent.
   */
  readonly sample?: number;
}

/** Evaluation thread -> main thread. */
export type EvaluationReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly loss: number;
      readonly accuracy: number;
      readonly examples: number;
      /** `full` when the examples were the whole test set (a sample as large as it is too). */
      readonly testSet: TestSet;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };
