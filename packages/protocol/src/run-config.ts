import * as z from 'zod';

/*
 * The run configuration a researcher submits (dashboard form or POST /api/runs).
 * Every algorithm parameter of the platform lives here, with its default and
 * its bounds, so one schema validates the form, the HTTP body and what the
 * coordinator persists. The names mirror the config types of
 * `@vtrain/optimizer` one for one; the coordinator passes these objects there.
 * Objects are strict: a misspelt key is an error, not a silently ignored field.
 */

const positive = () => z.number().positive();
const fraction = () => z.number().gt(0).lte(1);
const count = () => z.int().positive();

/** Model of a run: one of the zoo's, or a tfjs layers topology given as data. */
export const ModelSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('mlp'),
    /** Units of each hidden dense layer (ReLU); the output layer is softmax over the classes. */
    hiddenUnits: z.array(z.int().min(1).max(4096)).min(1).max(8).default([128]),
  }),
  z.strictObject({
    kind: z.literal('cnn'),
    /** Filters of each 3x3 conv layer (ReLU, then 2x2 max-pool). */
    filters: z.array(z.int().min(1).max(256)).min(1).max(4).default([8, 16]),
  }),
  z.strictObject({
    kind: z.literal('custom'),
    /**
     * The `modelTopology` of a tfjs layers model.json. Checked here only for
     * shape; the coordinator validates input/output fit and parameter count
     * with tfjs, and it reaches workers as data, never as code.
     */
    topology: z.record(z.string(), z.unknown()),
  }),
]);
export type ModelSpec = z.output<typeof ModelSpecSchema>;

/** How the training set is split into worker shards. */
export const PartitionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('iid') }),
  /** Non-IID: each shard holds examples of `labelsPerShard` classes only. */
  z.strictObject({ kind: z.literal('by-label'), labelsPerShard: z.int().min(1).max(100) }),
]);

export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'synthetic'] as const;
export const DatasetNameSchema = z.enum(DATASET_NAMES);
export type DatasetName = z.output<typeof DatasetNameSchema>;

/** The `dataset.name` of a run on a researcher's uploaded data set (`POST /api/datasets`). */
export const UPLOAD_DATASET = 'upload';
/** A built-in data set, or `upload` with the uploaded set's `id`. */
export const RunDatasetNameSchema = z.enum([...DATASET_NAMES, UPLOAD_DATASET]);
export type RunDatasetName = z.output<typeof RunDatasetNameSchema>;

/** Id of an uploaded data set: a UUID as `crypto.randomUUID` writes it (lower-case). */
export const DatasetIdSchema = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'expected a data set id',
  );

export const DatasetSpecSchema = z
  .strictObject({
    name: RunDatasetNameSchema.default('mnist'),
    /** The uploaded set's id: required with name `upload`, refused otherwise. */
    id: DatasetIdSchema.optional(),
    partition: PartitionSchema.default({ kind: 'iid' }),
    /** Number of shards the training set is cut into; workers are assigned shards round-robin. */
    shards: z.int().min(1).max(10_000).default(16),
  })
  .refine((d) => (d.name === UPLOAD_DATASET) === (d.id !== undefined), {
    message: 'give dataset.id with name "upload", and only then',
    path: ['id'],
  });
export type DatasetSpec = z.output<typeof DatasetSpecSchema>;

/** Worker-side optimizer for local steps (local SGD); gradient mode scales by `learningRate`. */
export const WorkerOptimizerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sgd'), learningRate: positive() }),
  z.strictObject({
    kind: z.literal('adam'),
    learningRate: positive(),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: positive().default(1e-8),
  }),
]);

/** Optimizer the server applies to each aggregated update (a pseudo-gradient). */
export const ServerOptimizerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sgd'), learningRate: positive() }),
  z.strictObject({
    kind: z.literal('momentum'),
    learningRate: positive(),
    momentum: z.number().min(0).lt(1).default(0.9),
  }),
  /** Nesterov momentum: the DiLoCo outer optimizer for local SGD. */
  z.strictObject({
    kind: z.literal('nesterov'),
    learningRate: positive(),
    momentum: z.number().min(0).lt(1).default(0.9),
  }),
  z.strictObject({
    kind: z.literal('adam'),
    learningRate: positive(),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: positive().default(1e-8),
  }),
]);

/** Robust aggregation rule; volunteers are untrusted. */
export const AggregationRuleSchema = z.discriminatedUnion('rule', [
  z.strictObject({ rule: z.literal('mean') }),
  z.strictObject({ rule: z.literal('norm-clip'), maxNorm: positive() }),
  z.strictObject({ rule: z.literal('trimmed-mean'), trimFraction: z.number().min(0).lt(0.5) }),
  z.strictObject({ rule: z.literal('median') }),
  z.strictObject({
    rule: z.literal('centered-clip'),
    radius: positive(),
    iterations: z.int().min(1).max(10).default(1),
  }),
  /** Drop updates longer than `factor` x the median norm (batch and recent updates), average the rest. */
  z.strictObject({ rule: z.literal('norm-filter'), factor: z.number().gt(1).max(1000).default(3) }),
  /**
   * The default (docs/algorithms.md#guarded-mean-the-default): each update, as it arrives, is
   * held to `normFactor` x the median L2 norm and `magnitudeFactor` x the median largest
   * |entry| of the last `window` accepted updates (refused as `unsafe-update` above them);
   * until min(`warmup`, N) updates were accepted, to half the model's own norm (scaled down
   * to it). The
   * accepted updates are averaged as by `mean`. Empty or all-zero updates are refused
   * (`empty-update`) whatever the rule.
   */
  z.strictObject({
    rule: z.literal('guarded-mean'),
    normFactor: z.number().gt(1).max(1000).default(4),
    magnitudeFactor: z.number().gt(1).max(1000).default(8),
    window: z.int().min(1).max(10_000).default(64),
    warmup: z.int().min(1).max(10_000).default(8),
  }),
]);

/** How updates computed on an old model are weighted: eta/(1+s), eta/s or not at all. */
export const StalenessDampingSchema = z.enum(['none', 'inverse', 'inverse-plus-one']);

export const StalenessPolicySchema = z.strictObject({
  /** Updates staler than this many versions are rejected (reason `stale`). */
  maxStaleness: z.int().min(0).max(100_000).default(32),
  /** Damping applied by the aggregator; `none` is plain asynchronous SGD (the paper's baseline). */
  damping: StalenessDampingSchema.default('none'),
});

/**
 * Deadline of a synchronous round or buffered batch:
 * openedAt + clamp(minMs, maxMs, slack * quantile(last `window` step times)).
 */
export const RoundDeadlineSchema = z
  .strictObject({
    slack: z.number().min(1).max(100).default(2),
    quantile: z.number().gt(0).lte(1).default(0.9),
    window: z.int().min(1).max(1000).default(20),
    minMs: z.int().min(1).default(1000),
    maxMs: z.int().min(1).default(60_000),
  })
  .refine((d) => d.minMs <= d.maxMs, { message: 'minMs must not exceed maxMs', path: ['minMs'] });

const LateUpdatesSchema = z.enum(['reject', 'next-round']);
const ClockSchema = z.enum(['time', 'updates']);

/** Threshold function K(s) of the Smooth Switch hybrid (arXiv 2407.00101); s is ms or applied updates. */
export const ThresholdConfigSchema = z.discriminatedUnion('shape', [
  z.strictObject({ shape: z.literal('linear'), clock: ClockSchema, horizon: positive() }),
  z.strictObject({ shape: z.literal('exponential'), clock: ClockSchema, horizon: positive() }),
  z.strictObject({
    shape: z.literal('step'),
    clock: ClockSchema,
    horizon: positive(),
    steps: z.int().min(1).max(1000).default(1),
  }),
  /** Ours, not the paper's: double K after `patience` evaluations without a loss improvement > minDelta. */
  z.strictObject({
    shape: z.literal('plateau'),
    patience: z.int().min(1).max(1000).default(3),
    minDelta: z.number().min(0).default(0.001),
  }),
]);

/**
 * Local-SGD period rule (Haddadpour et al. 2019, docs/algorithms.md#local-sgd-and-lupa).
 * `lupa-adaptive`: H = min(maxSteps, ceil((F(x_0) / F(x_i))^(1/3)) initialSteps)
 * with F the training objective: the coordinator takes the running mean of the
 * training losses (`update.trainLoss`) the round's updates report, the first
 * report standing for F(x_0); the test-set evaluation does not enter the rule.
 */
export const LocalPeriodRuleSchema = z.discriminatedUnion('rule', [
  z.strictObject({ rule: z.literal('fixed'), steps: z.int().min(1).max(100_000) }),
  z.strictObject({
    rule: z.literal('lupa-adaptive'),
    initialSteps: z.int().min(1).max(100_000),
    maxSteps: z.int().min(1).max(1_000_000),
  }),
  z.strictObject({
    rule: z.literal('lupa-linear'),
    initialSteps: z.int().min(1).max(100_000),
    alpha: z.number().min(0),
  }),
]);

const common = {
  staleness: StalenessPolicySchema.prefault({}),
};
const roundBased = {
  ...common,
  deadline: RoundDeadlineSchema.prefault({}),
  lateUpdates: LateUpdatesSchema.default('next-round'),
};

/** When updates are applied: on arrival, in rounds, or in a hybrid between the two. */
export const ScheduleConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('async'), ...common }),
  z.strictObject({ kind: z.literal('sync'), ...roundBased }),
  z.strictObject({ kind: z.literal('hybrid'), ...roundBased, threshold: ThresholdConfigSchema }),
  z.strictObject({
    kind: z.literal('cyclic'),
    ...roundBased,
    syncRounds: count(),
    asyncUpdates: count(),
  }),
  z.strictObject({
    kind: z.literal('local-sgd'),
    ...common,
    deadline: RoundDeadlineSchema.prefault({}),
    period: LocalPeriodRuleSchema,
  }),
]);
export type ScheduleConfig = z.output<typeof ScheduleConfigSchema>;

export const CompressionConfigSchema = z.strictObject({
  /** Fraction of entries sent per update: k = ceil(density * P). 1 sends everything. */
  density: fraction().default(0.01),
  /** Keep the unsent remainder and add it to the next update (Stich et al. 2018). */
  errorFeedback: z.boolean().default(true),
  valueFormat: z.enum(['f32', 'f16']).default('f32'),
  /**
   * Bounded downstream: a weights patch sent to a worker carries at most
   * B = ceil(downstreamDensity * P) coordinates, the largest entries of
   * (global model - the worker's copy), with server-side error feedback per
   * worker (DoubleSqueeze, Tang et al. ICML 2019): what is not sent stays in
   * the difference and goes out later. Absent: B = k, the upload's count. 1
   * sends every changed coordinate (exact patches, the protocol-1 behaviour).
   */
  downstreamDensity: fraction().optional(),
  /**
   * 'f16': a patch that brings a worker exactly one version forward carries the
   * broadcast model's step in f16 (a `sparse-step` weights message, half the bytes
   * of f32 new values); the broadcast model then moves by f16-rounded steps, and
   * what the rounding leaves (about 2^-11 of a step) stays in the error memory
   * until the coordinate is among the largest again, or is dropped as settled
   * when under 2^-10 of the weight (docs/algorithms.md#downstream-patches).
   * 'f32': new values only, the broadcast model takes the global values exactly.
   */
  downstreamValueFormat: z.enum(['f32', 'f16']).default('f32'),
});

export const TrainingConfigSchema = z.strictObject({
  batchSize: z.int().min(1).max(4096).default(32),
  /** Scales each gradient (or drives local steps) on the worker, before top-k. */
  workerOptimizer: WorkerOptimizerConfigSchema.default({ kind: 'sgd', learningRate: 0.1 }),
  serverOptimizer: ServerOptimizerConfigSchema.default({ kind: 'sgd', learningRate: 1 }),
});

export const EvaluationConfigSchema = z.strictObject({
  everyVersions: z.int().min(1).default(50),
  /**
   * Size of the fixed random sample of held-out examples (seeded from the run's `seed`) that
   * periodic evaluations use; the whole test set when omitted. Final evaluations, and the check
   * behind `stop.targetAccuracy`, always use the whole test set.
   */
  testExamples: z.int().min(1).optional(),
});

export const CheckpointConfigSchema = z.strictObject({
  everyVersions: z.int().min(1).default(200),
  everySeconds: positive().default(30),
});

/** The run ends at the first rule met; at least one is required. */
export const StopRuleSchema = z
  .strictObject({
    /** Reached when a periodic evaluation, then the whole test set, reach it. */
    targetAccuracy: fraction().optional(),
    maxVersions: count().optional(),
    maxSeconds: positive().optional(),
  })
  .refine(
    (s) =>
      s.targetAccuracy !== undefined || s.maxVersions !== undefined || s.maxSeconds !== undefined,
    { message: 'give at least one of targetAccuracy, maxVersions, maxSeconds' },
  );

/**
 * Caps the weight of one identity: among the last `window` updates a run
 * accepted, one worker may hold at most max(1, ceil(window * min(1, slack / N)))
 * (N: the active workers, but at most one more than the workers holding updates in
 * the window, so idle identities throttle no one); more is refused as `rate-limited`. With slack 1 no
 * worker outweighs its fair share; the default slack 2 leaves room for a
 * worker twice as fast as the others (and never limits a run of 2 workers).
 * Synchronous rounds take one update per worker anyway; the cap matters for
 * asynchronous, hybrid and cyclic schedules, where it is on by default
 * (see {@link effectiveContributionCap}).
 */
export const ContributionCapSchema = z.strictObject({
  window: z.int().min(2).max(10_000).default(64),
  slack: z.number().min(1).max(100).default(2),
});
export type ContributionCap = z.output<typeof ContributionCapSchema>;

export const RunConfigSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(1),
  model: ModelSpecSchema.default({ kind: 'mlp', hiddenUnits: [128] }),
  dataset: DatasetSpecSchema.prefault({}),
  training: TrainingConfigSchema.prefault({}),
  compression: CompressionConfigSchema.prefault({}),
  schedule: ScheduleConfigSchema,
  /** Default: the guarded mean; `{ rule: 'mean' }` is the explicit opt-out. */
  aggregation: AggregationRuleSchema.prefault({ rule: 'guarded-mean' }),
  /**
   * The per-worker cap (see {@link ContributionCapSchema}). Absent: the default cap
   * (window 64, slack 2) for asynchronous, hybrid and cyclic schedules, none for sync and
   * local SGD; `'off'`: no cap.
   */
  contributionCap: z.union([ContributionCapSchema, z.literal('off')]).optional(),
  evaluation: EvaluationConfigSchema.prefault({}),
  checkpoint: CheckpointConfigSchema.prefault({}),
  stop: StopRuleSchema,
});

/** The cap a run with no `contributionCap` gets under a schedule that takes several updates per worker per round. */
export const DEFAULT_CONTRIBUTION_CAP: ContributionCap = { window: 64, slack: 2 };

/**
 * The per-worker cap in force for a run: its own, none for `'off'`, else
 * {@link DEFAULT_CONTRIBUTION_CAP} for the schedules where one worker can send many updates
 * in a row (async, hybrid, cyclic) and none for those taking one per worker per round
 * (sync, local SGD).
 *
 * @param config - a parsed run config.
 * @returns the cap, or undefined for none.
 */
export function effectiveContributionCap(
  config: Pick<RunConfig, 'contributionCap' | 'schedule'>,
): ContributionCap | undefined {
  const cap = config.contributionCap;
  if (cap === 'off') return undefined;
  if (cap !== undefined) return cap;
  switch (config.schedule.kind) {
    case 'async':
    case 'hybrid':
    case 'cyclic':
      return DEFAULT_CONTRIBUTION_CAP;
    case 'sync':
    case 'local-sgd':
      return undefined;
  }
}

/** A run config with every default filled in: what the coordinator stores. */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** What a researcher may submit: optional fields may be left out. */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
