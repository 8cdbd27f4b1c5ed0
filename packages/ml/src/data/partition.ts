import { CodedError } from '../coded-error.js';
import type { LabelValues } from './dataset.js';
import {
  assertSeed,
  deriveSeed,
  mulberry32,
  seededPermutation,
  shuffleInPlace,
} from '../random.js';

/**
 * How the training set is split into worker shards; the same shape as
 * `PartitionSchema` of `@vtrain/protocol`.
 */
export type PartitionSpec =
  { readonly kind: 'iid' } | { readonly kind: 'by-label'; readonly labelsPerShard: number };

/** Reasons a {@link PartitionError} is thrown. */
export type PartitionErrorCode =
  | 'invalid-shard-count'
  | 'more-shards-than-examples'
  | 'invalid-labels-per-shard'
  | 'too-few-shards';

/** Thrown when a partition cannot be made as asked (never a silently smaller one). */
export class PartitionError extends CodedError<PartitionErrorCode> {}

const SALT_IID = 1;
const SALT_CLASS_ORDER = 2;
const SALT_CLASS_EXAMPLES = 3;

/**
 * Splits example indices 0..n-1 (n = labels.length) into `shardCount` disjoint
 * shards, each returned sorted ascending (the order examples are read in; the
 * batcher shuffles anyway). Deterministic for a given seed.
 *
 * - iid: a seeded Fisher-Yates permutation, cut into contiguous runs; shard i
 *   gets positions [floor(i n / S), floor((i + 1) n / S)), so sizes differ by at
 *   most 1 and every example is used exactly once.
 * - by-label (the "pathological non-IID" split of McMahan et al. 2017, sec. 3,
 *   generalised): the C distinct labels present are put in a seeded order
 *   c_0..c_{C-1}; shard i holds classes c_{(iL + j) mod C}, j < L, with L =
 *   labelsPerShard. Consecutive slots of a cycle are distinct (L <= C) and the
 *   S L >= C slots cover every class, each class landing in floor or ceil(S L / C)
 *   shards. A class's examples are shuffled and cut evenly among its shards, so
 *   again every example is used exactly once. A shard holds at most L labels
 *   (fewer only when a class has fewer examples than shards that share it).
 *   Sizes follow the classes: when S L is not a multiple of C, a class held by
 *   fewer shards gives each a larger part (MNIST, S = 8, L = 2: 5.9k to 12k).
 *   Exact L-label sets were preferred over equal sizes, since the label skew is
 *   what a non-IID experiment is about.
 *
 * @param labels - the label of each example.
 * @param spec - iid or by-label.
 * @param shardCount - S, a positive integer not above n.
 * @param seed - an integer in [0, 2^32).
 * @returns S arrays of example indices.
 * @throws {@link PartitionError} for S < 1, S > n, L outside [1, C], or S L < C.
 */
export function partition(
  labels: LabelValues,
  spec: PartitionSpec,
  shardCount: number,
  seed: number,
): Uint32Array[] {
  assertSeed(seed);
  const n = labels.length;
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new PartitionError(
      'invalid-shard-count',
      `shard count must be a positive integer, got ${shardCount}`,
    );
  }
  if (shardCount > n) {
    throw new PartitionError(
      'more-shards-than-examples',
      `${shardCount} shards of ${n} examples would leave a shard empty`,
    );
  }
  switch (spec.kind) {
    case 'iid':
      return splitEvenly(seededPermutation(n, deriveSeed(seed, SALT_IID)), shardCount).map(sorted);
    case 'by-label':
      return partitionByLabel(labels, spec.labelsPerShard, shardCount, seed);
  }
}

function partitionByLabel(
  labels: LabelValues,
  labelsPerShard: number,
  shardCount: number,
  seed: number,
): Uint32Array[] {
  const byClass = examplesByClass(labels);
  const present = [...byClass.keys()].sort((a, b) => a - b);
  const classCount = present.length;
  if (!Number.isInteger(labelsPerShard) || labelsPerShard < 1 || labelsPerShard > classCount) {
    throw new PartitionError(
      'invalid-labels-per-shard',
      `labelsPerShard must be an integer in [1, ${classCount}] (the labels present), got ${labelsPerShard}`,
    );
  }
  if (shardCount * labelsPerShard < classCount) {
    throw new PartitionError(
      'too-few-shards',
      `${shardCount} shards x ${labelsPerShard} labels cannot cover all ${classCount} classes`,
    );
  }
  const order = seededPermutation(classCount, deriveSeed(seed, SALT_CLASS_ORDER));
  // shardsOfClass[k]: the shards holding class present[k], in shard order.
  const shardsOfClass: number[][] = present.map(() => []);
  for (let shard = 0; shard < shardCount; shard++) {
    for (let j = 0; j < labelsPerShard; j++) {
      shardsOfClass[order[(shard * labelsPerShard + j) % classCount]].push(shard);
    }
  }
  const parts: Uint32Array[][] = Array.from({ length: shardCount }, () => []);
  for (let k = 0; k < classCount; k++) {
    const examples = byClass.get(present[k]) ?? new Uint32Array(0);
    shuffleInPlace(examples, mulberry32(deriveSeed(seed, SALT_CLASS_EXAMPLES, present[k])));
    const holders = shardsOfClass[k];
    splitEvenly(examples, holders.length).forEach((chunk, h) => parts[holders[h]].push(chunk));
  }
  return parts.map((chunks) => sorted(concat(chunks)));
}

function examplesByClass(labels: LabelValues): Map<number, Uint32Array> {
  const size = labels instanceof Uint16Array ? 65536 : 256;
  const counts = new Uint32Array(size);
  for (const label of labels) counts[label]++;
  const byClass = new Map<number, Uint32Array>();
  const filled = new Uint32Array(size);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    let examples = byClass.get(label);
    if (examples === undefined) {
      examples = new Uint32Array(counts[label]);
      byClass.set(label, examples);
    }
    examples[filled[label]++] = i;
  }
  return byClass;
}

/** Contiguous runs [floor(i n / parts), floor((i + 1) n / parts)): sizes within 1. */
function splitEvenly(values: Uint32Array, parts: number): Uint32Array[] {
  const n = values.length;
  return Array.from({ length: parts }, (_, i) =>
    values.subarray(Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)),
  );
}

function concat(chunks: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function sorted(values: Uint32Array): Uint32Array {
  return values.slice().sort();
}
