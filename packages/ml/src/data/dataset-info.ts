import type { DatasetName } from '@vtrain/protocol';

/** Static facts about a data set: image geometry and classes, shared by every host. */
export interface DatasetInfo {
  readonly name: DatasetName;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** [height, width, channels]: the per-example shape every zoo model takes. */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes; labels are integers in [0, classes). */
  readonly classes: number;
  /** Human-readable name of class i at index i (length === classes). */
  readonly classNames: readonly string[];
}

const GRAYSCALE_28 = { height: 28, width: 28, channels: 1, inputShape: [28, 28, 1] } as const;

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

/** Pixels per example: height * width * channels (784 for every data set here). */
export function pixelsPerExample(info: DatasetInfo): number {
  return info.height * info.width * info.channels;
}
