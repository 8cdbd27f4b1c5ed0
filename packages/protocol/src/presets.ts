import * as z from 'zod';
import { RunConfigSchema, type RunConfigInput } from './run-config.js';
import { ValidationError } from './validation.js';

/*
 * Named recipes a researcher starts from: the dashboard's launch form offers
 * them as cards, and `POST /api/runs` takes `{ "preset": name, ...overrides }`
 * (docs/api.md#presets). Each is plain data, a partial run config without a
 * name, so one object feeds the form, the API and the coordinator's demo run.
 * The settings come from measurements in docs/benchmarks.md; where a preset
 * says "measured", the figure is that document's.
 */

/** A run config without its name: what a preset fixes. `schedule` and `stop` are required. */
export type RunPresetConfig = Omit<RunConfigInput, 'name'>;

/** One named recipe. */
export interface RunPreset {
  /** Stable identifier, as `POST /api/runs` takes it in `preset`. */
  readonly name: RunPresetName;
  /** A few words the form shows as the card's heading. */
  readonly title: string;
  /** One line: when a researcher should pick this recipe. */
  readonly whenToUse: string;
  /** The settings; anything left out takes the run config's default. */
  readonly config: RunPresetConfig;
}

/** The presets' names, in the order the form shows them. */
export const RUN_PRESET_NAMES = [
  'fastest',
  'smooth-switch',
  'lupa',
  'sparse-async',
  'robust',
] as const;
/** A preset's name as `GET /api/presets` lists it. */
export const RunPresetNameSchema = z.enum(RUN_PRESET_NAMES);
/** One of {@link RUN_PRESET_NAMES}. */
export type RunPresetName = z.output<typeof RunPresetNameSchema>;

/** Stop rule of the presets that were not measured to a target: 97% or an hour. */
const STOP_97_OR_AN_HOUR = { targetAccuracy: 0.97, maxSeconds: 3600 } as const;

/**
 * The training settings of the simulated-cluster experiments 1 and 2 of
 * docs/benchmarks.md: batch 32, worker SGD at rate 0.2, plain averaging on the
 * server (SGD at rate 1).
 */
const BENCH_TRAINING = {
  batchSize: 32,
  workerOptimizer: { kind: 'sgd', learningRate: 0.2 },
  serverOptimizer: { kind: 'sgd', learningRate: 1 },
} as const;

/**
 * `fastest`: local SGD in rounds (Stich 2019; docs/algorithms.md#local-sgd-and-lupa).
 * Each worker takes 50 Adam steps (batch 64, rate 5e-3) from the round's
 * model and sends the change of its weights as 1% top-k with error feedback
 * in f16; the coordinator applies the mean of the round's changes with
 * server SGD at rate 2 and sends each worker the round's change as f16 steps
 * (downstream budget 10%; docs/algorithms.md#downstream-patches). MNIST in two IID shards, the 784-128-10 MLP, the full
 * test set evaluated after every round. The density is the one that reached
 * 95.6% with the fewest socket.io bytes among 0.5%, 0.75%, 1%, 1.5%, 2%, 3% and 5%
 * (`bench/src/peer/explore.ts`, one run each): sparser updates take more rounds,
 * denser ones send more per round. docs/benchmarks.md, "Against DISCO", has its
 * time and bytes against DISCO's federated averaging. The coordinator's demo run
 * is this preset.
 */
const FASTEST: RunPreset = {
  name: 'fastest',
  title: 'Fastest to 95.6%',
  whenToUse:
    'A few steady workers and you want accuracy soon: local SGD, 50 Adam steps per round, 1% f16 top-k.',
  config: {
    dataset: { name: 'mnist', shards: 2 },
    model: { kind: 'mlp', hiddenUnits: [128] },
    training: {
      batchSize: 64,
      workerOptimizer: { kind: 'adam', learningRate: 0.005 },
      serverOptimizer: { kind: 'sgd', learningRate: 2 },
    },
    // Replies may carry up to 10% of the weights: a round changes the union of the
    // workers' 1% (at most 2% with two workers), so every reply is exact. At the default
    // budget (B = k) the workers' copies lag the global model (with 3% top-k, accuracy
    // stalled near 90.5%).
    // Replies to a worker one version behind carry the round's change as f16 steps.
    compression: {
      density: 0.01,
      errorFeedback: true,
      valueFormat: 'f16',
      downstreamDensity: 0.1,
      downstreamValueFormat: 'f16',
    },
    schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: 50 } },
    evaluation: { everyVersions: 1 },
    stop: { targetAccuracy: 0.97, maxSeconds: 3600 },
  },
};

/**
 * `smooth-switch`: the hybrid of Smooth Switch (arXiv 2407.00101;
 * docs/algorithms.md): asynchronous at first, then rounds of K updates with
 * K growing to the worker count. The threshold is the best hybrid row of
 * experiment 1 in docs/benchmarks.md, "hybrid step (4)": K rises in 4 steps
 * over 60 s of wall time (half that experiment's budget), with its training
 * settings and 1% top-k with error feedback.
 */
const SMOOTH_SWITCH: RunPreset = {
  name: 'smooth-switch',
  title: 'Smooth Switch (async → sync)',
  whenToUse:
    'Many workers of mixed speed: start asynchronous for early progress, end in synchronous rounds for a steady finish.',
  config: {
    training: BENCH_TRAINING,
    compression: { density: 0.01, errorFeedback: true },
    schedule: {
      kind: 'hybrid',
      threshold: { shape: 'step', clock: 'time', horizon: 60_000, steps: 4 },
    },
    stop: STOP_97_OR_AN_HOUR,
  },
};

/**
 * `lupa`: local SGD whose period H grows as the training loss falls
 * (Haddadpour et al. 2019, adaptive rule H = min(maxSteps, ceil((F0/F)^(1/3) H0));
 * docs/algorithms.md#local-sgd-and-lupa), starting at 2 local steps and
 * capped at 16, as in experiment 1's "local SGD, LUPA adaptive" row.
 */
const LUPA: RunPreset = {
  name: 'lupa',
  title: 'Local SGD, adaptive period (LUPA)',
  whenToUse:
    'Slow or costly links: communicate often while the loss falls fast, then less and less as it flattens.',
  config: {
    training: BENCH_TRAINING,
    compression: { density: 0.01, errorFeedback: true },
    schedule: {
      kind: 'local-sgd',
      period: { rule: 'lupa-adaptive', initialSteps: 2, maxSteps: 16 },
    },
    stop: STOP_97_OR_AN_HOUR,
  },
};

/**
 * `sparse-async`: asynchronous SGD with very sparse updates, after Candela et
 * al. on sparsification against staleness. Experiment 2 of docs/benchmarks.md
 * (16 workers, staleness bound 64) found 0.1% top-k with error feedback the
 * best density, ahead of 1%, 10% and dense, and of damped dense SGD.
 */
const SPARSE_ASYNC: RunPreset = {
  name: 'sparse-async',
  title: 'Sparse asynchronous SGD',
  whenToUse:
    'Many workers, high staleness, thin uplinks: every update applied on arrival, 0.1% top-k with error feedback.',
  config: {
    training: BENCH_TRAINING,
    compression: { density: 0.001, errorFeedback: true },
    schedule: { kind: 'async', staleness: { maxStaleness: 64, damping: 'none' } },
    stop: STOP_97_OR_AN_HOUR,
  },
};

/**
 * `robust`: for a run open to anyone. Asynchronous SGD with staleness damping
 * eta/(1+s) (experiment 2: it lifts 1% top-k from 78% to 87% under staleness),
 * the norm filter (drop updates longer than 3x the median norm;
 * docs/algorithms.md, "Norm filter") and the per-worker contribution cap
 * (no identity holds more than twice its share of the last 64 updates).
 */
const ROBUST: RunPreset = {
  name: 'robust',
  title: 'Robust, for open runs',
  whenToUse:
    'Untrusted volunteers: filter outsized updates, damp stale ones, and cap what any one worker contributes.',
  config: {
    training: BENCH_TRAINING,
    compression: { density: 0.01, errorFeedback: true },
    schedule: { kind: 'async', staleness: { maxStaleness: 32, damping: 'inverse-plus-one' } },
    aggregation: { rule: 'norm-filter', factor: 3 },
    contributionCap: { window: 64, slack: 2 },
    stop: STOP_97_OR_AN_HOUR,
  },
};

/** Every preset, in the order the form shows them; `fastest` first, the form's initial choice. */
export const RUN_PRESETS: readonly RunPreset[] = [
  FASTEST,
  SMOOTH_SWITCH,
  LUPA,
  SPARSE_ASYNC,
  ROBUST,
];

/** A preset as `GET /api/presets` lists it; `config` is validated as a run config without its name. */
export const RunPresetSchema = z.strictObject({
  name: RunPresetNameSchema,
  title: z.string().min(1),
  whenToUse: z.string().min(1),
  config: RunConfigSchema.omit({ name: true }),
});

/** The preset called `name`, or undefined. */
export function findRunPreset(name: string): RunPreset | undefined {
  return RUN_PRESETS.find((preset) => preset.name === name);
}

/** The field of `POST /api/runs` that names a preset. */
export const PRESET_FIELD = 'preset';

/** Keys whose value tells the options of a discriminated union apart (`schedule.kind`, ...). */
const DISCRIMINATORS = ['kind', 'rule', 'shape'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own, enumerable, even for `__proto__`: the strict schema then rejects it as an unknown key. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * JSON Merge Patch (RFC 7386) of `patch` over `base`, with one rule for
 * unions: objects merge key by key, `null` removes a key, arrays and scalars
 * replace; but where both objects carry a discriminator (`kind`, `rule`,
 * `shape`) with different values, the patch replaces the base object whole,
 * since the base's other fields belong to an option the patch left (merging
 * `{ kind: 'async' }` into a local-SGD schedule must not keep its `period`).
 * Neither argument is modified.
 */
export function mergeRunConfig(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return Array.isArray(patch) ? patch.map(copy) : patch;
  const switched = DISCRIMINATORS.some(
    (key) => isPlainObject(base) && key in base && key in patch && base[key] !== patch[key],
  );
  const start = isPlainObject(base) && !switched ? base : {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(start)) {
    if (!(Object.hasOwn(patch, key) && patch[key] === null)) put(out, key, copy(value));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value !== null) {
      put(out, key, mergeRunConfig(Object.hasOwn(out, key) ? out[key] : undefined, value));
    }
  }
  return out;
}

/** A deep copy of JSON-like data, so a merged config never shares objects with a preset. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  return isPlainObject(value) ? mergeRunConfig({}, value) : value;
}

/**
 * Resolves a `POST /api/runs` body: one without a `preset` field is returned
 * as it is; `{ preset, ...overrides }` becomes the preset's config with the
 * overrides merged over it ({@link mergeRunConfig}). The result still has to
 * pass {@link RunConfigSchema} (the caller validates, as for any body).
 * Throws a {@link ValidationError} at path `preset` when the name is unknown.
 */
export function expandRunPreset(body: unknown): unknown {
  if (!isPlainObject(body) || !(PRESET_FIELD in body)) return body;
  const { [PRESET_FIELD]: name, ...overrides } = body;
  const preset = typeof name === 'string' ? findRunPreset(name) : undefined;
  if (preset === undefined) {
    throw new ValidationError('run config', [
      {
        path: PRESET_FIELD,
        message: `unknown preset ${describe(name)}; the presets are ${RUN_PRESET_NAMES.join(', ')}`,
      },
    ]);
  }
  return mergeRunConfig(preset.config, overrides);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : `of type ${typeof value}`;
}
