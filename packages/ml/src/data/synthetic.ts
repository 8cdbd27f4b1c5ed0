import {
  deriveSeed,
  mulberry32,
  mulberry32Uint32,
  randomInt,
  type RandomSource,
} from '../random.js';
import { DATASET_INFO } from './dataset-info.js';
import { DatasetError, type Dataset, type DatasetSplits } from './dataset.js';

/** Sizes and seed of a generated synthetic data set. */
export interface SyntheticOptions {
  /** Integer in [0, 2^32); the same seed gives byte-identical sets on every host. */
  readonly seed: number;
  readonly trainExamples: number;
  readonly testExamples: number;
}

/**
 * The generator's knobs, chosen so that an MLP 784-128-10 with plain SGD
 * (lr 0.1, batch 32) needs on the order of a hundred steps to pass 95% test
 * accuracy: classes share strokes and every image carries a distractor stroke,
 * a random shift, a random contrast and dense pixel noise, so it is not
 * separable by a single pixel. `synthetic.test.ts` pins both ends.
 */
export const SYNTHETIC_GENERATOR = {
  /** Class-specific strokes per prototype. */
  classStrokes: 2,
  /** Strokes shared by every class's prototype. */
  sharedStrokes: 2,
  /** Stroke endpoints are drawn from [margin, 27 - margin]. */
  margin: 5,
  /** Gaussian profile width of a stroke, in pixels. */
  strokeSigma: 1.1,
  /** Random translation of each example: dx, dy uniform in [-maxShift, maxShift]. */
  maxShift: 2,
  /** Contrast of each example, uniform in [minContrast, 1]. */
  minContrast: 0.55,
  /** Additive pixel noise, uniform in [-noise, noise] (on the 0-1 scale). */
  noise: 0.35,
  /** Intensity of one random distractor stroke per example. */
  distractorIntensity: 0.5,
} as const;

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const STREAM_PROTOTYPES = 0;
const STREAM_SHARED = 1;
const STREAM_TRAIN = 2;
const STREAM_TEST = 3;

/**
 * Generates the 'synthetic' data set: 10 classes of 28x28x1 u8 images.
 *
 * Each class k has a prototype P_k = max(shared strokes, class-k strokes), a
 * stroke being a segment rendered as exp(-d^2 / (2 sigma^2)) with d the distance
 * to the segment. Example i has label i mod 10 (classes exactly balanced) and
 * pixels round(255 * clamp(c * max(P_k shifted by (dx, dy), a * D) + u, 0, 1)),
 * c the contrast, D a random distractor stroke of intensity a, u uniform noise.
 * Prototypes depend on the seed only; the train and test streams use seeds
 * derived from (seed, stream), so the training set does not change when the
 * test size does. Pure and deterministic.
 *
 * @throws {@link DatasetError} `invalid-argument` for non-integer or negative sizes.
 * @throws SeedError for a seed outside [0, 2^32).
 */
export function generateSynthetic(options: SyntheticOptions): DatasetSplits {
  const { seed, trainExamples, testExamples } = options;
  for (const [name, value] of [
    ['trainExamples', trainExamples],
    ['testExamples', testExamples],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new DatasetError(
        'invalid-argument',
        `${name} must be a non-negative integer, got ${value}`,
      );
    }
  }
  const prototypes = syntheticPrototypes(seed);
  return {
    train: renderExamples(prototypes, trainExamples, deriveSeed(seed, STREAM_TRAIN)),
    test: renderExamples(prototypes, testExamples, deriveSeed(seed, STREAM_TEST)),
  };
}

/**
 * The 10 class prototypes of {@link generateSynthetic} for `seed`, intensities
 * in [0, 1], prototype k at [k * 784, (k + 1) * 784).
 */
export function syntheticPrototypes(seed: number): Float32Array {
  const { classes } = DATASET_INFO.synthetic;
  const shared = new Float32Array(PIXELS);
  const sharedRandom = mulberry32(deriveSeed(seed, STREAM_SHARED));
  for (let s = 0; s < SYNTHETIC_GENERATOR.sharedStrokes; s++) {
    drawStroke(shared, randomStroke(sharedRandom), 1);
  }
  const prototypes = new Float32Array(classes * PIXELS);
  for (let k = 0; k < classes; k++) {
    const prototype = prototypes.subarray(k * PIXELS, (k + 1) * PIXELS);
    prototype.set(shared);
    const random = mulberry32(deriveSeed(seed, STREAM_PROTOTYPES, k));
    for (let s = 0; s < SYNTHETIC_GENERATOR.classStrokes; s++) {
      drawStroke(prototype, randomStroke(random), 1);
    }
  }
  return prototypes;
}

interface Stroke {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

function randomStroke(random: RandomSource): Stroke {
  const { margin } = SYNTHETIC_GENERATOR;
  const span = SIDE - 2 * margin;
  const coordinate = () => margin + random() * span;
  return { x0: coordinate(), y0: coordinate(), x1: coordinate(), y1: coordinate() };
}

/**
 * Max-composites a soft segment of peak `intensity` into `canvas` (28x28, 0-1).
 * Only pixels within 4 sigma of the segment's bounding box are visited: beyond
 * that the profile is below exp(-8) = 0.0003, under half a grey level.
 */
function drawStroke(canvas: Float32Array, stroke: Stroke, intensity: number): void {
  const { x0, y0, x1, y1 } = stroke;
  const sigma = SYNTHETIC_GENERATOR.strokeSigma;
  const reach = 4 * sigma;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const lengthSquared = dx * dx + dy * dy;
  const twoSigmaSquared = 2 * sigma * sigma;
  const xFrom = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
  const xTo = Math.min(SIDE - 1, Math.ceil(Math.max(x0, x1) + reach));
  const yFrom = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
  const yTo = Math.min(SIDE - 1, Math.ceil(Math.max(y0, y1) + reach));
  for (let y = yFrom; y <= yTo; y++) {
    for (let x = xFrom; x <= xTo; x++) {
      // Distance from the pixel centre to the closest point of the segment.
      const t =
        lengthSquared === 0
          ? 0
          : Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / lengthSquared));
      const ex = x - (x0 + t * dx);
      const ey = y - (y0 + t * dy);
      const value = intensity * Math.exp(-(ex * ex + ey * ey) / twoSigmaSquared);
      const p = y * SIDE + x;
      if (value > canvas[p]) canvas[p] = value;
    }
  }
}

function renderExamples(prototypes: Float32Array, count: number, seed: number): Dataset {
  const { classes } = DATASET_INFO.synthetic;
  const { maxShift, minContrast, noise, distractorIntensity } = SYNTHETIC_GENERATOR;
  const random = mulberry32(seed);
  // Pixel noise takes 8 bits per pixel, four pixels per 32-bit draw: the
  // generator call, not the arithmetic, is what costs here.
  const noiseBits = mulberry32Uint32(deriveSeed(seed, 1));
  const noiseStep = (2 * noise) / 256;
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  const distractor = new Float32Array(PIXELS);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    labels[i] = label;
    const shiftX = randomInt(random, 2 * maxShift + 1) - maxShift;
    const shiftY = randomInt(random, 2 * maxShift + 1) - maxShift;
    const contrast = minContrast + (1 - minContrast) * random();
    distractor.fill(0);
    drawStroke(distractor, randomStroke(random), distractorIntensity);
    const base = label * PIXELS;
    const out = i * PIXELS;
    let bits = 0;
    for (let p = 0; p < PIXELS; p++) {
      if ((p & 3) === 0) bits = noiseBits();
      const y = (p / SIDE) | 0;
      const x = p - y * SIDE;
      const sourceY = y - shiftY;
      const sourceX = x - shiftX;
      const inside = sourceX >= 0 && sourceX < SIDE && sourceY >= 0 && sourceY < SIDE;
      const signal = inside ? prototypes[base + sourceY * SIDE + sourceX] : 0;
      const clean = contrast * Math.max(signal, distractor[p]);
      // Uniform on 256 levels spanning [-noise, noise].
      const value = clean - noise + noiseStep * ((bits & 0xff) + 0.5);
      bits >>>= 8;
      images[out + p] = Math.round(255 * Math.min(1, Math.max(0, value)));
    }
  }
  return { images, labels, count, info: DATASET_INFO.synthetic };
}
