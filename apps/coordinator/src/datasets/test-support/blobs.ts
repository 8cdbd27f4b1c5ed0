import { encodeSafetensors, mulberry32, type EncodableTensor } from '@vtrain/ml';

/**
 * A learnable synthetic problem for uploads: `classes` Gaussian blobs in `dimensions`
 * dimensions. Class c's centre has +2 on coordinates c, c + classes, c + 2 classes, ...
 * and 0 elsewhere; each example adds unit Gaussian noise to its class's centre. A linear
 * classifier separates the classes at about 95% and more with `dimensions` = 20, 3 classes.
 */
export function gaussianBlobs(
  count: number,
  options: { classes?: number; dimensions?: number; seed?: number } = {},
): { x: Float32Array; y: Uint8Array; dimensions: number } {
  const classes = options.classes ?? 3;
  const dimensions = options.dimensions ?? 20;
  const random = mulberry32(options.seed ?? 1);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const x = new Float32Array(count * dimensions);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    y[i] = label;
    for (let d = 0; d < dimensions; d++) {
      x[i * dimensions + d] = (d % classes === label ? 2 : 0) + gaussian();
    }
  }
  return { x, y, dimensions };
}

/** A data set file as `safetensors.numpy.save_file` would write it (the project's writer). */
export function datasetFile(tensors: EncodableTensor[]): Uint8Array {
  return encodeSafetensors(tensors, {});
}

/** The blobs as an uploadable file: x (N, 20) F32, y (N,) I64, no test set (10% held out). */
export function blobsFile(count: number, seed = 1): Uint8Array {
  const { x, y, dimensions } = gaussianBlobs(count, { seed });
  return datasetFile([
    { name: 'x', shape: [count, dimensions], data: x },
    { name: 'y', shape: [count], data: BigInt64Array.from(y, (v) => BigInt(v)) },
  ]);
}
