import type { ClusterSpec } from '../sim/cluster.js';
import type { SimulationSpec } from '../sim/simulate.js';
import { calibration } from './calibration.js';
import { DEFAULT_CLUSTER, DEFAULT_TRAINING, scheduleVariants, type SuiteScale } from './common.js';
import type { GroupPlan, LearningRates, TunedPlan, TuningRecord } from './grid.js';

/** An experiment: its plans and the common parameters the report prints. */
export interface ExperimentPlan {
  readonly id: string;
  readonly title: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly plans: readonly GroupPlan[];
  /** Present when the experiment tunes learning rates first (then `plans` is empty). */
  readonly tuned?: TunedPlan;
  /** A tuning reused from an earlier result (the quick suite), recorded with this result. */
  readonly reusedTuning?: readonly TuningRecord[];
}

/** An earlier run's tuning to reuse instead of tuning again, and where it comes from. */
export interface ReusedTuning {
  readonly tuning: readonly TuningRecord[];
  /** The file and its provenance, in words. */
  readonly source: string;
}

function baseSpec(
  label: string,
  seed: number,
  cluster: ClusterSpec,
  budgetMs: number,
  schedule: SimulationSpec['schedule'],
  overrides: Partial<SimulationSpec> = {},
): SimulationSpec {
  return {
    label,
    seed,
    cluster,
    ...DEFAULT_TRAINING,
    schedule,
    budgetMs,
    evalEveryMs: Math.max(1000, budgetMs / 60),
    ...overrides,
  };
}

/** What every simulated experiment records about where its cluster's times come from. */
export function calibrationParameters(): Record<string, unknown> {
  return { calibration: calibration() };
}

/**
 * Budget of the P1 comparison (experiments 1, 1b, 1c, 4): 40 s of virtual
 * time, about 1,400 gradients for asynchronous SGD on the default cluster
 * (the calibrated steps are short, so links and the round barrier dominate).
 */
export const P1_BUDGET_MS = 40_000;

/** Evaluations per P1 run: the whole test set is evaluated every budget / 10. */
const P1_EVALUATIONS = 10;

/** The three schedules of the P1 question: the pure modes and the Smooth Switch hybrid (linear K). */
export const P1_SCHEDULES = ['sync', 'async', 'hybrid-linear'] as const;

/**
 * The learning-rate grid of each P1 schedule (SGD on both sides). With one
 * local step an update is -workerLr x the gradient and the server applies
 * serverLr x the aggregate, so what moves the model is the product; the grid
 * covers products 0.05 to 3.2 and puts the linear scaling rule (lr x K for a
 * mean of K updates) among the candidates as the server lr: K = 8 for
 * synchronous rounds of 8 workers, K = 4 (the mean of the hybrid's ramp from 1
 * to 8) for the hybrid; asynchronous SGD applies one update at a time (K = 1).
 */
export const P1_GRID: Readonly<Record<(typeof P1_SCHEDULES)[number], readonly LearningRates[]>> = {
  sync: [
    { workerLr: 0.1, serverLr: 1 },
    { workerLr: 0.2, serverLr: 1 },
    { workerLr: 0.4, serverLr: 1 },
    { workerLr: 0.8, serverLr: 1 },
    { workerLr: 0.2, serverLr: 8 },
    { workerLr: 0.4, serverLr: 8 },
  ],
  async: [
    { workerLr: 0.05, serverLr: 1 },
    { workerLr: 0.1, serverLr: 1 },
    { workerLr: 0.2, serverLr: 1 },
    { workerLr: 0.4, serverLr: 1 },
  ],
  'hybrid-linear': [
    { workerLr: 0.1, serverLr: 1 },
    { workerLr: 0.2, serverLr: 1 },
    { workerLr: 0.4, serverLr: 1 },
    { workerLr: 0.2, serverLr: 4 },
    { workerLr: 0.4, serverLr: 4 },
  ],
};

function p1Spec(
  key: string,
  seed: number,
  cluster: ClusterSpec,
  schedule: SimulationSpec['schedule'],
  rates: LearningRates,
  overrides: Partial<SimulationSpec> = {},
): SimulationSpec {
  return baseSpec(key, seed, cluster, P1_BUDGET_MS, schedule, {
    learningRate: rates.workerLr,
    serverLearningRate: rates.serverLr,
    evalEveryMs: P1_BUDGET_MS / P1_EVALUATIONS,
    ...overrides,
  });
}

function p1Variants(): ReturnType<typeof scheduleVariants> {
  return scheduleVariants(P1_BUDGET_MS).filter((v) =>
    (P1_SCHEDULES as readonly string[]).includes(v.key),
  );
}

/**
 * Experiment 1, the P1 question: at a fixed budget on the default
 * heterogeneous cluster, does the Smooth Switch hybrid beat both pure modes?
 * Each schedule at its own learning rates, tuned on `scale.tuningSeeds`, then
 * measured on `scale.seeds`; with `reuse` (the quick suite), at the rates an
 * earlier tuning chose, without tuning again.
 */
export function schedulesExperiment(scale: SuiteScale, reuse?: ReusedTuning): ExperimentPlan {
  const variants = p1Variants();
  if (reuse) {
    const chosen = (key: string): LearningRates | undefined =>
      reuse.tuning.find((t) => t.key === key)?.chosen;
    return {
      id: 'exp1-schedules',
      title: 'Sync, async and the Smooth Switch hybrid at tuned learning rates',
      parameters: {
        cluster: DEFAULT_CLUSTER,
        training: { ...DEFAULT_TRAINING, learningRate: 'tuned' },
        budgetMs: P1_BUDGET_MS,
        evalEveryMs: P1_BUDGET_MS / P1_EVALUATIONS,
        seeds: scale.seeds,
        tuningReusedFrom: reuse.source,
        ...calibrationParameters(),
      },
      reusedTuning: reuse.tuning,
      plans: variants.map((variant) => {
        const rates = chosen(variant.key) ?? {
          workerLr: DEFAULT_TRAINING.learningRate,
          serverLr: 1,
        };
        return {
          key: variant.key,
          label: variant.label,
          params: { schedule: variant.schedule, rates },
          spec: (seed: number) =>
            p1Spec(variant.key, seed, DEFAULT_CLUSTER, variant.schedule, rates),
        };
      }),
    };
  }
  return {
    id: 'exp1-schedules',
    title: 'Sync, async and the Smooth Switch hybrid at tuned learning rates',
    parameters: {
      cluster: DEFAULT_CLUSTER,
      training: { ...DEFAULT_TRAINING, learningRate: 'tuned' },
      budgetMs: P1_BUDGET_MS,
      evalEveryMs: P1_BUDGET_MS / P1_EVALUATIONS,
      seeds: scale.seeds,
      tuningSeeds: scale.tuningSeeds,
      grid: P1_GRID,
      ...calibrationParameters(),
    },
    plans: [],
    tuned: {
      tuningSeeds: scale.tuningSeeds,
      seeds: scale.seeds,
      schedules: variants.map((variant) => ({
        key: variant.key,
        label: variant.label,
        params: { schedule: variant.schedule },
        candidates: P1_GRID[variant.key as (typeof P1_SCHEDULES)[number]],
        spec: (rates: LearningRates, seed: number) =>
          p1Spec(variant.key, seed, DEFAULT_CLUSTER, variant.schedule, rates),
      })),
    },
  };
}

/** The learning rates experiment 1 chose, by schedule key (from its result). */
export type ChosenRates = Readonly<Record<string, LearningRates>>;

/** The rates of experiment 1's result groups (`params.rates`); the untuned default where absent. */
export function chosenRates(
  groups: readonly { key: string; params: Readonly<Record<string, unknown>> }[] | undefined,
): ChosenRates {
  const out: Record<string, LearningRates> = {};
  for (const key of P1_SCHEDULES) {
    const rates = groups?.find((g) => g.key === key)?.params.rates as LearningRates | undefined;
    out[key] = rates ?? { workerLr: DEFAULT_TRAINING.learningRate, serverLr: 1 };
  }
  return out;
}

/** The cluster conditions of experiment 1b: where the hybrid is expected to help, and where not. */
export const CONDITIONS: readonly { key: string; label: string; cluster: ClusterSpec }[] = [
  {
    key: 'homogeneous',
    label: 'equal speeds (spread 1x), 50 ms',
    cluster: { ...DEFAULT_CLUSTER, speedSpread: 1, stallProbability: 0 },
  },
  {
    key: 'slow-links',
    label: 'spread 1-4x, 300 ms, 250 KB/s up',
    cluster: { ...DEFAULT_CLUSTER, latencyMs: 300, uploadBytesPerSecond: 250_000 },
  },
];

/**
 * Experiment 1c: the crowded condition, twice the workers (16) on the default
 * links and spread, where asynchronous staleness doubles; a separate file so it
 * can be rerun alone, merged into 1b's table by the report.
 */
export const CROWDED_CONDITIONS: readonly { key: string; label: string; cluster: ClusterSpec }[] = [
  {
    key: 'crowded',
    label: '16 workers, spread 1-4x, 50 ms',
    cluster: { ...DEFAULT_CLUSTER, workers: 16 },
  },
];

/**
 * Experiment 1b (or 1c): sync, async and the linear hybrid at other worker
 * spreads, delays and counts, each at the learning rates experiment 1 chose
 * (not tuned again per condition).
 */
export function conditionsExperiment(
  scale: SuiteScale,
  rates: ChosenRates,
  conditions: readonly { key: string; label: string; cluster: ClusterSpec }[] = CONDITIONS,
  id = 'exp1b-conditions',
): ExperimentPlan {
  const variants = p1Variants();
  // The default condition is experiment 1 itself; the report takes its rows from there.
  return {
    id,
    title: 'Sync, async and hybrid across worker spread, delay and count',
    parameters: {
      training: { ...DEFAULT_TRAINING, learningRate: 'as chosen in experiment 1' },
      rates,
      budgetMs: P1_BUDGET_MS,
      evalEveryMs: P1_BUDGET_MS / P1_EVALUATIONS,
      seeds: scale.seeds,
      ...calibrationParameters(),
    },
    plans: conditions.flatMap((condition) =>
      variants.map((variant) => ({
        key: `${condition.key}/${variant.key}`,
        label: `${condition.label}: ${variant.label}`,
        params: {
          condition: condition.key,
          schedule: variant.key,
          cluster: condition.cluster,
          rates: rates[variant.key],
        },
        spec: (seed: number) =>
          p1Spec(variant.key, seed, condition.cluster, variant.schedule, rates[variant.key]),
      })),
    ),
  };
}

/**
 * Experiment 2: density against staleness. Asynchronous SGD on 16 workers, so
 * an update is typically about 15 versions old; the staleness bound is raised
 * to 64 so that what is measured is the effect of staleness, not rejections.
 */
export const STALENESS_CLUSTER: ClusterSpec = { ...DEFAULT_CLUSTER, workers: 16 };

interface SparsificationConfig {
  readonly density: number;
  readonly errorFeedback: boolean;
  readonly damping: 'none' | 'inverse-plus-one';
}

export function sparsificationExperiment(scale: SuiteScale): ExperimentPlan {
  const budgetMs = 40_000 * scale.budgetScale;
  const configs: SparsificationConfig[] = [
    { density: 1, errorFeedback: false, damping: 'none' },
    { density: 0.1, errorFeedback: true, damping: 'none' },
    { density: 0.1, errorFeedback: false, damping: 'none' },
    { density: 0.01, errorFeedback: true, damping: 'none' },
    { density: 0.01, errorFeedback: false, damping: 'none' },
    { density: 0.001, errorFeedback: true, damping: 'none' },
    { density: 0.001, errorFeedback: false, damping: 'none' },
    { density: 1, errorFeedback: false, damping: 'inverse-plus-one' },
    { density: 0.01, errorFeedback: true, damping: 'inverse-plus-one' },
  ];
  const keyOf = (c: SparsificationConfig): string =>
    `d${c.density}${c.density < 1 ? (c.errorFeedback ? '+ef' : '-ef') : ''}${c.damping === 'none' ? '' : '+damped'}`;
  // The quick suite keeps the rows that carry the comparison: dense, 1% with and without EF, damping.
  const quick = new Set(['d1', 'd0.01+ef', 'd0.01-ef', 'd1+damped']);
  const chosen = scale.name === 'quick' ? configs.filter((c) => quick.has(keyOf(c))) : configs;
  return {
    id: 'exp2-sparsification',
    title: 'Sparsification against staleness (asynchronous, 16 workers)',
    parameters: {
      cluster: STALENESS_CLUSTER,
      training: DEFAULT_TRAINING,
      maxStaleness: 64,
      budgetMs,
      seeds: scale.seeds,
    },
    plans: chosen.map((c) => {
      const key = keyOf(c);
      const label = `${c.density * 100}%${c.density < 1 ? (c.errorFeedback ? ', EF' : ', no EF') : ' (dense)'}${c.damping === 'none' ? '' : ', damped 1/(1+s)'}`;
      return {
        key,
        label,
        params: { ...c },
        spec: (seed: number) =>
          baseSpec(
            key,
            seed,
            STALENESS_CLUSTER,
            budgetMs,
            { kind: 'async', staleness: { maxStaleness: 64, damping: c.damping } },
            { density: c.density, errorFeedback: c.errorFeedback },
          ),
      };
    }),
  };
}

/**
 * Experiment 3: scaling. Equal-speed workers (so one worker is a fair
 * baseline), asynchronous SGD, time to 90% test accuracy; staleness bound
 * raised to 64 so 32 workers are not rejected wholesale.
 */
export const SCALING_TARGET = 0.9;

/**
 * Budget cap per worker count: one worker needs about two minutes of virtual
 * time to 90%; more workers get less, but never under a minute, so a
 * configuration that does not converge stops early instead of running on.
 */
export function scalingBudgetMs(workers: number): number {
  return Math.max(60_000, 160_000 / workers);
}

export function scalingExperiment(scale: SuiteScale): ExperimentPlan {
  return {
    id: 'exp3-scaling',
    title: `Scaling: time to ${SCALING_TARGET * 100}% against one worker`,
    parameters: {
      cluster: { ...DEFAULT_CLUSTER, speedSpread: 1, workers: 'varied' },
      training: DEFAULT_TRAINING,
      schedule: 'async, maxStaleness 64',
      target: SCALING_TARGET,
      budgetMs: 'max(60 s, 160 s / N)',
      seeds: scale.seeds,
    },
    plans: scale.scalingWorkers.map((workers) => ({
      key: `n${workers}`,
      label: `${workers} worker${workers === 1 ? '' : 's'}`,
      params: { workers },
      spec: (seed: number) => ({
        ...baseSpec(
          `n${workers}`,
          seed,
          { ...DEFAULT_CLUSTER, speedSpread: 1, workers },
          scalingBudgetMs(workers),
          { kind: 'async', staleness: { maxStaleness: 64 } },
        ),
        evalEveryMs: 1000,
        stopAtAccuracy: SCALING_TARGET,
      }),
    })),
  };
}

/**
 * Experiment 4: the accuracy cost of compression in the P1 schedules, against
 * a true dense baseline: every update the raw float32 gradient step and every
 * weights reply the raw float32 weights (4 bytes per parameter each way), at
 * the learning rates experiment 1 chose; the 1% rows are experiment 1's.
 */
export function compressionExperiment(scale: SuiteScale, rates: ChosenRates): ExperimentPlan {
  return {
    id: 'exp4-compression',
    title: 'Raw dense float32 against 1% top-k',
    parameters: {
      cluster: DEFAULT_CLUSTER,
      training: { ...DEFAULT_TRAINING, learningRate: 'as chosen in experiment 1' },
      rates,
      wire: 'raw-f32',
      budgetMs: P1_BUDGET_MS,
      seeds: scale.seeds,
      ...calibrationParameters(),
    },
    plans: p1Variants().map((variant) => ({
      key: `${variant.key}/dense`,
      label: `${variant.label}, raw dense f32`,
      params: { schedule: variant.key, density: 1, wire: 'raw-f32', rates: rates[variant.key] },
      spec: (seed: number) =>
        p1Spec(variant.key, seed, DEFAULT_CLUSTER, variant.schedule, rates[variant.key], {
          density: 1,
          errorFeedback: false,
          wire: 'raw-f32',
        }),
    })),
  };
}
