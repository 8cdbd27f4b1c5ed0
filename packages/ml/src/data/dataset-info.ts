import type { DatasetName, InputDtype, RunDatasetName, UploadedInput } from '@vtrain/protocol';

/** Static facts about a data set: example shape, value type and classes, shared by every host. */
export interface DatasetInfo {
  readonly name: RunDatasetName;
  /**
   * The per-example shape: [height, width, channels] for images (every built-in set is
   * [28, 28, 1]), any shape of rank 1 to 4 for an uploaded set.
   */
  readonly inputShape: readonly number[];
  /** `u8`: values are bytes, fed to models as v / 255; `f32`: floats, fed as they are. */
  readonly inputDtype: InputDtype;
  /** Number of classes; labels are integers in [0, classes). */
  readonly classes: number;
  /** Human-readable name of class i at index i (length === classes). */
  readonly classNames: readonly string[];
}

const GRAYSCALE_28 = { inputShape: [28, 28, 1], inputDtype: 'u8' } as const;

/**
 * The three data sets of `DatasetName` (`@vtrain/protocol`). Fashion-MNIST's
 * class order is Zalando's (github.com/zalandoresearch/fashion-mnist), which the
 * `fashion-mnist` package's files 0.json..9.json follow (checked by eye on the
 * class-mean images: 1 = trousers, 5 = sandals, 9 = ankle boots).
 */
export const DATASET_INFO = {
  mnist: {
    name: 'mnist',
    ...GRAYSCALE_28,
    classes: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    ...GRAYSCALE_28,
    classes: 10,
    classNames: [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ],
  },
  synthetic: {
    name: 'synthetic',
    ...GRAYSCALE_28,
    classes: 10,
    classNames: ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'],
  },
} as const satisfies Record<DatasetName, DatasetInfo>;

/** Values per example: the product of `inputShape` (784 for every built-in set). */
export function pixelsPerExample(info: DatasetInfo): number {
  return info.inputShape.reduce((product, dim) => product * dim, 1);
}

/**
 * The {@link DatasetInfo} of an uploaded set, from what the assignment (or the coordinator's
 * description of the set) says; classes are named by their index.
 */
export function uploadedDatasetInfo(input: Omit<UploadedInput, 'id'>): DatasetInfo {
  return {
    name: 'upload',
    inputShape: [...input.inputShape],
    inputDtype: input.inputDtype,
    classes: input.classes,
    classNames: Array.from({ length: input.classes }, (_, i) => String(i)),
  };
}

/**
 * The info of an assignment's data set: a built-in set's, or the uploaded set's from the
 * assignment's `dataset.upload`.
 *
 * @throws Error for `upload` without `dataset.upload` (the schema refuses it; a hand-built
 *   assignment might not).
 */
export function assignmentDatasetInfo(dataset: {
  readonly name: RunDatasetName;
  readonly upload?: UploadedInput | undefined;
}): DatasetInfo {
  if (dataset.name !== 'upload') return DATASET_INFO[dataset.name];
  if (dataset.upload === undefined) throw new Error('an upload assignment without dataset.upload');
  return uploadedDatasetInfo(dataset.upload);
}
