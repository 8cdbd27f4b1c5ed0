import type { ClusterSpec } from '../sim/cluster.js';
import type { SimulationSpec } from '../sim/simulate.js';
import { calibration } from './calibration.js';

const calibrated = calibration();

/**
 * The default volunteer cluster of the convergence experiments: 8 browsers of
 * mixed speed (the slowest 4x the fastest), the fastest stepping as fast as
 * the measured bare wasm loop (bench/results/overhead.json), a rare 5 s stall,
 * home-broadband links (50 ms one way, 1 MB/s up, 5 MB/s down), light churn,
 * and a coordinator with one thread (the run engine's measured cost per
 * coordinate, bench/results/ingest.json) behind one shared 100 Mbit/s link.
 */
export const DEFAULT_CLUSTER: ClusterSpec = {
  workers: 8,
  baseStepMs: calibrated.baseStepMs,
  speedSpread: 4,
  jitterSigma: 0.1,
  stallProbability: 0.02,
  stallMs: 5000,
  latencyMs: 50,
  uploadBytesPerSecond: 1_000_000,
  downloadBytesPerSecond: 5_000_000,
  meanUptimeMs: 300_000,
  downtimeMs: 10_000,
  coordinatorMsPerCoordinate: calibrated.coordinatorMsPerCoordinate,
  coordinatorBytesPerSecond: calibrated.coordinatorBytesPerSecond,
};

/** Training parameters shared by every experiment unless it says otherwise. */
export const DEFAULT_TRAINING = {
  model: { kind: 'mlp', hiddenUnits: [128] },
  batchSize: 32,
  learningRate: 0.2,
  density: 0.01,
  errorFeedback: true,
} as const satisfies Pick<
  SimulationSpec,
  'model' | 'batchSize' | 'learningRate' | 'density' | 'errorFeedback'
>;

/** How much of the full suite runs: `quick` is the documented under-10-minute subset. */
export interface SuiteScale {
  readonly name: 'full' | 'quick';
  /** Measurement seeds of every experiment. */
  readonly seeds: readonly number[];
  /** Seeds the learning rates of experiment 1 are tuned on (kept apart from `seeds`). */
  readonly tuningSeeds: readonly number[];
  /** Multiplier on every time budget. */
  readonly budgetScale: number;
  /** Worker counts of the scaling experiment. */
  readonly scalingWorkers: readonly number[];
}

export const SUITES: Readonly<Record<'full' | 'quick', SuiteScale>> = {
  full: {
    name: 'full',
    seeds: [1, 2, 3, 4, 5],
    tuningSeeds: [101, 102],
    budgetScale: 1,
    scalingWorkers: [1, 2, 4, 8, 16, 32],
  },
  quick: {
    name: 'quick',
    seeds: [1, 2, 3],
    tuningSeeds: [101],
    budgetScale: 1,
    scalingWorkers: [1, 4, 16],
  },
};

/** A named schedule and what it stands for in the report. */
export interface ScheduleVariant {
  readonly key: string;
  readonly label: string;
  readonly schedule: SimulationSpec['schedule'];
}

/**
 * The schedules of experiment 1. Hybrid thresholds run on the time clock with
 * the horizon at half the budget (K reaches N midway, then the run is fully
 * synchronous); cyclic alternates 10 synchronous rounds with 80 asynchronous
 * updates (10 rounds' worth at N = 8); local SGD uses H = 4, LUPA starts at 2
 * and may grow to 16 as the loss falls.
 */
export function scheduleVariants(budgetMs: number): ScheduleVariant[] {
  const horizon = budgetMs / 2;
  return [
    { key: 'sync', label: 'synchronous', schedule: { kind: 'sync' } },
    { key: 'async', label: 'asynchronous', schedule: { kind: 'async' } },
    {
      key: 'async-damped',
      label: 'async, damped 1/(1+s)',
      schedule: { kind: 'async', staleness: { damping: 'inverse-plus-one' } },
    },
    {
      key: 'hybrid-linear',
      label: 'hybrid linear',
      schedule: { kind: 'hybrid', threshold: { shape: 'linear', clock: 'time', horizon } },
    },
    {
      key: 'hybrid-exponential',
      label: 'hybrid exponential',
      schedule: { kind: 'hybrid', threshold: { shape: 'exponential', clock: 'time', horizon } },
    },
    {
      key: 'hybrid-step',
      label: 'hybrid step (4)',
      schedule: {
        kind: 'hybrid',
        threshold: { shape: 'step', clock: 'time', horizon, steps: 4 },
      },
    },
    {
      key: 'cyclic',
      label: 'cyclic 10 sync / 80 async',
      schedule: { kind: 'cyclic', syncRounds: 10, asyncUpdates: 80 },
    },
    {
      key: 'local-sgd',
      label: 'local SGD, H = 4',
      schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: 4 } },
    },
    {
      key: 'lupa',
      label: 'local SGD, LUPA adaptive',
      schedule: {
        kind: 'local-sgd',
        period: { rule: 'lupa-adaptive', initialSteps: 2, maxSteps: 16 },
      },
    },
  ];
}
