import type { PlateauThresholdConfig } from './config.js';

/**
 * Progress of the loss-plateau threshold (ours, not the paper's): the best loss so far, how many
 * evaluations in a row failed to improve on it by more than `minDelta`, and the current K.
 * Once K has reached N it stays synchronous (`synchronous`), so K tracks N if workers join later:
 * the hybrid's K only moves towards synchronous, never back.
 */
export interface PlateauProgress {
  readonly bestLoss: number | null;
  readonly evaluationsWithoutImprovement: number;
  readonly k: number;
  readonly synchronous: boolean;
}

/** Where the plateau threshold starts: K = 1, no loss seen. */
export const INITIAL_PLATEAU_PROGRESS: PlateauProgress = {
  bestLoss: null,
  evaluationsWithoutImprovement: 0,
  k: 1,
  synchronous: false,
};

/**
 * Folds one evaluation into the plateau threshold: the loss improves when
 * `loss < bestLoss - minDelta` (the first loss always does); after `patience` evaluations in a
 * row without improvement K doubles, `K = min(N, 2 * K)` (uncapped while N = 0), and the count
 * restarts.
 *
 * @param n - active workers N at the time of the evaluation.
 */
export function observePlateauLoss(
  config: PlateauThresholdConfig,
  progress: PlateauProgress,
  loss: number,
  n: number,
): PlateauProgress {
  if (progress.bestLoss === null || loss < progress.bestLoss - config.minDelta) {
    return { ...progress, bestLoss: loss, evaluationsWithoutImprovement: 0 };
  }
  const without = progress.evaluationsWithoutImprovement + 1;
  if (without < config.patience || progress.synchronous) {
    return { ...progress, evaluationsWithoutImprovement: without };
  }
  const doubled = 2 * progress.k;
  const synchronous = n > 0 && doubled >= n;
  return {
    bestLoss: progress.bestLoss,
    evaluationsWithoutImprovement: 0,
    k: synchronous ? n : doubled,
    synchronous,
  };
}

/** K of the plateau threshold for N active workers: `N` once synchronous, else `min(N, k)`, at least 1. */
export function plateauK(progress: PlateauProgress, n: number): number {
  return Math.max(1, progress.synchronous ? n : Math.min(n, progress.k));
}
