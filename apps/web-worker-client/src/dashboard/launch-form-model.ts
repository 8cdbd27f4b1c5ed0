import {
  DATASET_NAMES,
  findRunPreset,
  mergeRunConfig,
  ModelSpecSchema,
  RunConfigSchema,
  safeParseMessage,
  type DatasetName,
  type FieldIssue,
  type ModelSpec,
  type RunConfigInput,
  type RunPreset,
  type RunPresetName,
} from '@vtrain/protocol';
import { listDatasets } from '../shared/api.js';

/*
 * The launch form's model, apart from React: what a researcher chooses up
 * front (data set, model, recipe) and how each choice rewrites the config the
 * "Advanced" section shows. The config is the one source of truth: the
 * choices at the top are read from it, so an edit under Advanced (say, the
 * model's kind) shows at the top too.
 */

/** The recipe the form starts with: the measured fastest one (the demo run's). */
export const INITIAL_PRESET: RunPresetName = 'fastest';

/** A data set the form offers: one of the coordinator's built-in ones, or one a researcher uploaded. */
export type DatasetChoice =
  | { readonly source: 'builtin'; readonly name: DatasetName }
  | { readonly source: 'upload'; readonly id: string };

/** An uploaded data set as the form lists it (from `GET /api/datasets`). */
export interface UploadedDataset {
  readonly id: string;
  readonly label: string;
}

/** Words for the built-in data sets; the config says `mnist`, the form "MNIST". */
export const DATASET_LABELS: Readonly<Record<DatasetName, string>> = {
  mnist: 'MNIST (handwritten digits)',
  'fashion-mnist': 'Fashion-MNIST (clothing)',
  synthetic: 'Synthetic (generated, for quick checks)',
};

/** `dataset.name` of an uploaded data set, whose `dataset.id` says which (docs/api.md). */
export const UPLOAD_DATASET_NAME = 'upload';

export type ModelKind = ModelSpec['kind'];

/** The models the form offers, each with a line; their layer sizes are under Advanced. */
export const MODEL_CHOICES: readonly {
  readonly kind: ModelKind;
  readonly label: string;
  readonly line: string;
}[] = [
  { kind: 'mlp', label: 'MLP', line: 'dense ReLU layers; fast on every backend' },
  { kind: 'cnn', label: 'CNN', line: '3x3 convolutions and max-pooling; slower per step' },
  { kind: 'custom', label: 'Custom', line: 'a tfjs layers topology, pasted under Advanced' },
];

export function presetNamed(name: RunPresetName): RunPreset {
  const preset = findRunPreset(name);
  if (preset === undefined) throw new Error(`no preset ${name}`);
  return preset;
}

/** A deep copy, so the form never edits a preset's own objects. */
function copyConfig<T>(value: T): T {
  return mergeRunConfig({}, value) as T;
}

/** Which data set the config trains on, as the form's choice. */
export function datasetChoiceOf(config: RunConfigInput): DatasetChoice {
  const dataset = config.dataset as { name?: string; id?: unknown } | undefined;
  if (dataset?.name === UPLOAD_DATASET_NAME && typeof dataset.id === 'string') {
    return { source: 'upload', id: dataset.id };
  }
  const name = DATASET_NAMES.find((known) => known === dataset?.name) ?? 'mnist';
  return { source: 'builtin', name };
}

/** The same data set? */
export function sameDataset(a: DatasetChoice, b: DatasetChoice): boolean {
  return a.source === 'builtin'
    ? b.source === 'builtin' && a.name === b.name
    : b.source === 'upload' && a.id === b.id;
}

/** The config training on `choice`; the partition and shard count stay as they are. */
export function withDataset(config: RunConfigInput, choice: DatasetChoice): RunConfigInput {
  const rest: Record<string, unknown> = { ...config.dataset };
  delete rest.id;
  const dataset =
    choice.source === 'builtin'
      ? { ...rest, name: choice.name }
      : { ...rest, name: UPLOAD_DATASET_NAME, id: choice.id };
  // An uploaded data set (`name: 'upload'`, `id`) is the data-set schema's upload option.
  return { ...config, dataset: dataset as RunConfigInput['dataset'] };
}

export function modelKindOf(config: RunConfigInput): ModelKind {
  return config.model?.kind ?? 'mlp';
}

/**
 * The config with a model of `kind`: the preset's own model when it is of that
 * kind (its layer sizes were chosen with the recipe), else that kind's defaults.
 */
export function withModelKind(
  config: RunConfigInput,
  kind: ModelKind,
  preset: RunPreset,
): RunConfigInput {
  if (modelKindOf(config) === kind && config.model !== undefined) return config;
  const model =
    preset.config.model?.kind === kind
      ? copyConfig(preset.config.model)
      : kind === 'custom'
        ? { kind, topology: {} }
        : ModelSpecSchema.parse({ kind });
  return { ...config, model };
}

/**
 * What choosing a recipe does: every setting is reset to the preset's (and
 * the run config's defaults where the preset says nothing), keeping only what
 * the researcher chose apart from the recipe: the name, the data set and the
 * kind of model.
 */
export function configForPreset(
  preset: RunPreset,
  keep: { readonly name: string; readonly dataset?: DatasetChoice; readonly model?: ModelKind },
): RunConfigInput {
  let config: RunConfigInput = { name: keep.name, ...copyConfig(preset.config) };
  if (keep.dataset !== undefined) config = withDataset(config, keep.dataset);
  if (keep.model !== undefined) config = withModelKind(config, keep.model, preset);
  return config;
}

/** The form's first config: the initial recipe, unnamed. */
export function initialLaunchConfig(): RunConfigInput {
  return configForPreset(presetNamed(INITIAL_PRESET), { name: '' });
}

/**
 * The issues the protocol's own schema finds, the same check the coordinator
 * makes first (it then checks what only it can, such as a custom topology's
 * fit). Empty when the config may be sent.
 */
export function launchIssues(config: unknown): readonly FieldIssue[] {
  const result = safeParseMessage(RunConfigSchema, config, 'run config');
  return result.ok ? [] : result.error.issues;
}

/** Issues the top of the form shows beside its own inputs; the rest live under Advanced. */
const TOP_LEVEL_PATHS = new Set(['', 'name', 'preset', 'dataset.name', 'dataset.id', 'model.kind']);

/** Whether some issue belongs to a field under Advanced, which should then open to show it. */
export function needsAdvanced(issues: readonly FieldIssue[]): boolean {
  return issues.some((issue) => !TOP_LEVEL_PATHS.has(issue.path));
}

/** The messages of the issues at `path`, joined for one line under its input. */
export function messagesAt(issues: readonly FieldIssue[], path: string): string | undefined {
  const messages = issues.filter((issue) => issue.path === path).map((issue) => issue.message);
  return messages.length === 0 ? undefined : messages.join('; ');
}

/** The uploaded data sets the coordinator lists (`GET /api/datasets`), labelled; none when that fails. */
export async function fetchUploadedDatasets(): Promise<UploadedDataset[]> {
  try {
    return (await listDatasets()).map((dataset) => ({
      id: dataset.id,
      label: `${dataset.name} (${dataset.examples.toLocaleString('en-US')} examples, ${dataset.classes} classes)`,
    }));
  } catch {
    return [];
  }
}
