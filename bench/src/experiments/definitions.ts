import type { ClusterSpec } from '../sim/cluster.js';
import type { SimulationSpec } from '../sim/simulate.js';
import { DEFAULT_CLUSTER, DEFAULT_TRAINING, scheduleVariants, type SuiteScale } from './common.js';
import type { GroupPlan } from './grid.js';

/** An experiment: its plans and the common parameters the report prints. */
export interface ExperimentPlan {
  readonly id: string;
  readonly title: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly plans: readonly GroupPlan[];
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

/** Experiment 1: every schedule at a fixed budget on the default heterogeneous cluster. */
export function schedulesExperiment(scale: SuiteScale): ExperimentPlan {
  const budgetMs = 120_000 * scale.budgetScale;
  return {
    id: 'exp1-schedules',
    title: 'Schedules at a fixed time budget',
    parameters: {
      cluster: DEFAULT_CLUSTER,
      training: DEFAULT_TRAINING,
      budgetMs,
      seeds: scale.seeds,
    },
    plans: scheduleVariants(budgetMs).map((variant) => ({
      key: variant.key,
      label: variant.label,
      params: { schedule: variant.schedule },
      spec: (seed) => baseSpec(variant.key, seed, DEFAULT_CLUSTER, budgetMs, variant.schedule),
    })),
  };
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

/** Experiment 1b (or 1c): sync, async and the linear hybrid at other worker spreads and delays. */
export function conditionsExperiment(
  scale: SuiteScale,
  conditions: readonly { key: string; label: string; cluster: ClusterSpec }[] = CONDITIONS,
  id = 'exp1b-conditions',
): ExperimentPlan {
  const budgetMs = 120_000 * scale.budgetScale;
  const variants = scheduleVariants(budgetMs).filter((v) =>
    ['sync', 'async', 'hybrid-linear'].includes(v.key),
  );
  // The default condition is experiment 1 itself; the report takes its rows from there.
  return {
    id,
    title: 'Sync, async and hybrid across worker spread and delay',
    parameters: { training: DEFAULT_TRAINING, budgetMs, seeds: scale.seeds },
    plans: conditions.flatMap((condition) =>
      variants.map((variant) => ({
        key: `${condition.key}/${variant.key}`,
        label: `${condition.label}: ${variant.label}`,
        params: { condition: condition.key, schedule: variant.key, cluster: condition.cluster },
        spec: (seed: number) =>
          baseSpec(variant.key, seed, condition.cluster, budgetMs, variant.schedule),
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
 * Experiment 4: the accuracy cost of compression in the round-based modes
 * (dense float32 against 1% top-k with error feedback); the bytes per update
 * of every schedule come from experiment 1.
 */
export function compressionExperiment(scale: SuiteScale): ExperimentPlan {
  const budgetMs = 120_000 * scale.budgetScale;
  const variants = scheduleVariants(budgetMs).filter((v) =>
    ['sync', 'hybrid-linear', 'async'].includes(v.key),
  );
  return {
    id: 'exp4-compression',
    title: 'Dense float32 against 1% top-k',
    parameters: {
      cluster: DEFAULT_CLUSTER,
      training: DEFAULT_TRAINING,
      budgetMs,
      seeds: scale.seeds,
    },
    plans: variants.map((variant) => ({
      key: `${variant.key}/dense`,
      label: `${variant.label}, dense`,
      params: { schedule: variant.key, density: 1 },
      spec: (seed: number) =>
        baseSpec(variant.key, seed, DEFAULT_CLUSTER, budgetMs, variant.schedule, {
          density: 1,
          errorFeedback: false,
        }),
    })),
  };
}
