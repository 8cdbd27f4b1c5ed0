import * as z from 'zod';
import { DatasetIdSchema } from './run-config.js';

/*
 * Uploaded data sets (docs/api.md#data-sets): what `POST /api/datasets` answers and
 * `GET /api/datasets` lists, and the facts about an uploaded set a worker needs to decode
 * its shard and build the run's model.
 */

/** Fewest and most classes of an uploaded set: C = max(y) + 1 must lie in [2, 1000]. */
export const MIN_DATASET_CLASSES = 2;
export const MAX_DATASET_CLASSES = 1000;
/** Rank of one example (the shape of `x` after N): 1 (vectors) to 4. */
export const MAX_EXAMPLE_RANK = 4;

/** How example values are stored: `u8` bytes read as v / 255, or `f32` values used as they are. */
export const InputDtypeSchema = z.enum(['u8', 'f32']);
export type InputDtype = z.output<typeof InputDtypeSchema>;

/** Shape of one example: 1 to {@link MAX_EXAMPLE_RANK} positive dimensions. */
export const ExampleShapeSchema = z
  .array(
    z
      .int()
      .min(1)
      .max(2 ** 31 - 1),
  )
  .min(1)
  .max(MAX_EXAMPLE_RANK);

/** What a worker needs to know of an uploaded set besides its shard. */
export const UploadedInputSchema = z.strictObject({
  id: DatasetIdSchema,
  inputShape: ExampleShapeSchema,
  inputDtype: InputDtypeSchema,
  classes: z.int().min(MIN_DATASET_CLASSES).max(MAX_DATASET_CLASSES),
});
export type UploadedInput = z.output<typeof UploadedInputSchema>;

/** An uploaded data set as the HTTP API describes it. */
export const DatasetDescriptionSchema = z.strictObject({
  id: DatasetIdSchema,
  /** The `?name=` of the upload, else "dataset". */
  name: z.string().min(1).max(100),
  /** Training examples (after the held-out part, when the file has no test set). */
  examples: z.int().min(1),
  /** Held-out examples: `test_x` of the file, or the seeded 10% held out of `x`. */
  testExamples: z.int().min(1),
  /** Whether the test set is the file's own (`test_x`, `test_y`) or held out of `x`. */
  testSet: z.enum(['file', 'held-out']),
  inputShape: ExampleShapeSchema,
  /** The dtype of `x` in the file: U8 (scaled to [0, 1]) or F32. */
  inputDtype: InputDtypeSchema,
  classes: z.int().min(MIN_DATASET_CLASSES).max(MAX_DATASET_CLASSES),
  /** Size of the safetensors file. */
  bytes: z.int().min(0),
  /** SHA-256 of the file, 64 lower-case hex digits. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Milliseconds since the Unix epoch. */
  createdAt: z.number(),
});
export type DatasetDescription = z.output<typeof DatasetDescriptionSchema>;
