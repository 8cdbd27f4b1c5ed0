import * as tf from '@tensorflow/tfjs';
import type { DatasetInfo } from '../data/dataset-info.js';
import { assertSeed, deriveSeed } from '../random.js';
import { formatShape, modelExampleShape } from './input-shape.js';
import { ModelSpecError } from './model-spec-error.js';

type ModelJsonInput = Parameters<typeof tf.models.modelFromJSON>[0];

/** Options of {@link modelFromTopology}. */
export interface TopologyOptions {
  /** Refuse models with more parameters than this. */
  readonly maxParameters: number;
  /** Seeds every random initialiser in the topology (default 0); see {@link modelFromTopology}. */
  readonly seed?: number;
}

/**
 * Initialiser classes that draw random numbers and take a `seed` in their
 * config (tfjs-layers initializers.ts). Their seeds are overwritten so a
 * topology gives the same initial weights on every host, like a zoo model.
 */
const SEEDED_INITIALIZERS = new Set([
  'RandomUniform',
  'RandomNormal',
  'TruncatedNormal',
  'VarianceScaling',
  'GlorotUniform',
  'GlorotNormal',
  'HeNormal',
  'HeUniform',
  'LeCunNormal',
  'LeCunUniform',
  'Orthogonal',
]);

/** Config fields whose value alone bounds a layer's parameter count from below. */
const WIDTH_FIELDS = new Set(['units', 'filters', 'output_dim', 'input_dim']);

/**
 * Builds a researcher's model from the `modelTopology` of a tfjs layers
 * model.json. The topology is data, never code: tfjs deserialises only
 * registered layer classes (there is no Lambda layer in tfjs), and no weights
 * manifest is passed, so nothing is fetched.
 *
 * Checks, in order, each failure a {@link ModelSpecError}:
 * 1. a plain object, not a whole model.json (`invalid-topology`);
 * 2. no `units` / `filters` / `output_dim` / `input_dim` above maxParameters
 *    (`too-many-parameters`, before tfjs allocates anything: a cheap guard
 *    against one huge layer, not a bound on the total, which step 5 checks);
 * 3. tfjs builds it (`unknown-layer` for an unregistered class, else `invalid-topology`);
 * 4. input [null, h, w, c] or [null, h * w * c] (`input-shape`), one output
 *    [null, classes] (`output-shape`);
 * 5. parameter count <= maxParameters (`too-many-parameters`);
 * 6. no softmax on the output (`softmax-output`): the loss is softmax
 *    cross-entropy on logits, and a softmax before it would silently train a
 *    different, badly conditioned objective. Use a linear last layer;
 * 7. only trainable weights (`non-trainable-weights`: BatchNormalization's
 *    moving statistics would diverge between workers, the wire carries only the
 *    trainable vector) and no regularizer or constraint (`unsupported-layer-option`:
 *    the gradient here is of the data loss alone, so they would be ignored).
 *
 * Initial weights are deterministic: every random initialiser's seed is
 * replaced by deriveSeed(seed, k), k its position in a depth-first walk of the
 * topology. A rejected model is disposed before the error is thrown.
 */
export async function modelFromTopology(
  topology: Readonly<Record<string, unknown>>,
  info: DatasetInfo,
  options: TopologyOptions,
): Promise<tf.LayersModel> {
  const seed = options.seed ?? 0;
  assertSeed(seed);
  const { maxParameters } = options;
  if (!isPlainObject(topology)) {
    throw new ModelSpecError('invalid-topology', 'expected a JSON object');
  }
  if ('modelTopology' in topology) {
    throw new ModelSpecError(
      'invalid-topology',
      'this is a whole model.json; pass its modelTopology field',
    );
  }
  const seeded = seedInitializers(structuredClone(topology), seed);
  assertNoHugeLayer(seeded, maxParameters);

  // tfjs builds layer by layer, so a topology that fails half-way has already
  // created the variables of the layers before the failure, and drops them.
  // Deserialisation runs synchronously inside modelFromJSON when no weights
  // manifest is given, so the variables that exist right after the call and
  // not before are exactly the ones it made; those are disposed on failure.
  const registered = tf.engine().registeredVariables;
  const before = new Set(Object.keys(registered));
  // A JSON object is a PyJsonDict by construction; the cast only restates it.
  const pending = tf.models.modelFromJSON({ modelTopology: seeded } as ModelJsonInput);
  const created = Object.entries(registered)
    .filter(([name]) => !before.has(name))
    .map(([, variable]) => variable);
  let model: tf.LayersModel;
  try {
    model = await pending;
  } catch (error) {
    for (const variable of created) if (!variable.isDisposed) variable.dispose();
    const message = error instanceof Error ? error.message : String(error);
    const code = /unknown layer/i.test(message) ? 'unknown-layer' : 'invalid-topology';
    throw new ModelSpecError(code, `tfjs refused the topology: ${message}`, { cause: error });
  }
  try {
    checkModel(model, info, maxParameters);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

function checkModel(model: tf.LayersModel, info: DatasetInfo, maxParameters: number): void {
  modelExampleShape(model, info);
  const outputs = model.outputs;
  const outputShape = outputs.length === 1 ? outputs[0].shape : undefined;
  if (outputShape?.length !== 2 || outputShape[0] !== null || outputShape[1] !== info.classes) {
    throw new ModelSpecError(
      'output-shape',
      `outputs ${outputs.map((o) => formatShape(o.shape)).join(', ')}, expected one [null,${info.classes}]`,
    );
  }
  const parameters = model.countParams();
  if (parameters > maxParameters) {
    throw new ModelSpecError(
      'too-many-parameters',
      `${parameters} parameters, the limit is ${maxParameters}`,
    );
  }
  const last = outputs[0].sourceLayer;
  const lastConfig = last.getConfig();
  if (last.getClassName() === 'Softmax' || lastConfig.activation === 'softmax') {
    throw new ModelSpecError(
      'softmax-output',
      `layer "${last.name}" ends in softmax; give it a linear activation so it outputs logits`,
    );
  }
  const frozen = model.nonTrainableWeights;
  if (frozen.length > 0) {
    throw new ModelSpecError(
      'non-trainable-weights',
      `${frozen.map((w) => w.originalName).join(', ')} are not trainable`,
    );
  }
  for (const layer of allLayers(model)) {
    const config = layer.getConfig();
    for (const [key, value] of Object.entries(config)) {
      if (/(Regularizer|Constraint)$/.test(key) && value != null) {
        throw new ModelSpecError('unsupported-layer-option', `layer "${layer.name}" sets ${key}`);
      }
    }
  }
}

/** The layers of `model`, descending into nested models. */
function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((layer) =>
    layer instanceof tf.LayersModel ? [layer, ...allLayers(layer)] : [layer],
  );
}

/** Depth-first walk; overwrites `seed` of every random initialiser config. */
function seedInitializers(node: Record<string, unknown>, seed: number): Record<string, unknown> {
  let k = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (!isPlainObject(value)) return;
    const className = value.class_name;
    const config = value.config;
    if (
      typeof className === 'string' &&
      SEEDED_INITIALIZERS.has(className) &&
      isPlainObject(config)
    ) {
      config.seed = deriveSeed(seed, k++);
    }
    Object.values(value).forEach(visit);
  };
  visit(node);
  return node;
}

function assertNoHugeLayer(node: unknown, maxParameters: number): void {
  if (Array.isArray(node)) {
    node.forEach((child) => {
      assertNoHugeLayer(child, maxParameters);
    });
    return;
  }
  if (!isPlainObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (WIDTH_FIELDS.has(key) && typeof value === 'number' && value > maxParameters) {
      throw new ModelSpecError(
        'too-many-parameters',
        `${key} = ${value} alone exceeds the limit of ${maxParameters} parameters`,
      );
    }
    assertNoHugeLayer(value, maxParameters);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
