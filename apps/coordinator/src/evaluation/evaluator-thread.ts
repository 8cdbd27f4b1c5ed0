import { parentPort } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { buildModel, evaluate, selectExamples, writeFlatWeights, type Dataset } from '@vtrain/ml';
import { loadDataset, useFastestNodeBackend } from '@vtrain/ml/node';
import type { DatasetSplits } from '@vtrain/ml';
import type { DatasetName } from '@vtrain/protocol';
import { loadDatasetFile } from '../datasets/dataset-file.js';
import type { EvaluationDataset } from '../runs/run-setup.js';
import { evaluationSample } from './evaluation-sample.js';
import type { EvaluationReply, EvaluationRequest } from './protocol.js';

// Runs in a worker thread: tfjs inference on the held-out set takes tens of
// milliseconds to seconds, which the coordinator's event loop must not wait on.

const port = parentPort;
if (!port) throw new Error('evaluator-thread must run in a worker thread');

const backendReady = useFastestNodeBackend();
const datasets = new Map<string, Promise<DatasetSplits>>();
const models = new Map<string, Promise<tf.LayersModel>>();
const EVAL_BATCH_SIZE = 500;
/** Each run's sample, cut once: key `${dataset}/${seed}/${size}`. */
const samples = new Map<string, Dataset>();

function dataset(source: EvaluationDataset): Promise<DatasetSplits> {
  let splits = datasets.get(source.key);
  if (!splits) {
    // An uploaded set is read from its file (SHA-256 checked), a built-in one from its package.
    splits = source.file
      ? loadDatasetFile(source.file.path, source.file.sha256)
      : loadDataset(source.key as DatasetName);
    datasets.set(source.key, splits);
    // A failed load (a file changed on disk) is not kept: the next request reads again.
    splits.catch(() => datasets.delete(source.key));
  }
  return splits;
}

function model(request: EvaluationRequest): Promise<tf.LayersModel> {
  let built = models.get(request.runId);
  if (!built) {
    built = buildModel(request.model, request.dataset.info, request.seed, {
      maxParameters: request.weights.length,
    });
    models.set(request.runId, built);
  }
  return built;
}

/** The examples a request asks for: the whole test set, or the run's seeded sample of it. */
function examples(request: EvaluationRequest, test: Dataset): Dataset {
  if (request.sample === undefined || request.sample >= test.count) return test;
  const key = `${request.dataset.key}/${request.seed}/${request.sample}`;
  let sample = samples.get(key);
  if (!sample) {
    sample = selectExamples(test, evaluationSample(test.count, request.sample, request.seed));
    samples.set(key, sample);
  }
  return sample;
}

async function handle(request: EvaluationRequest): Promise<EvaluationReply> {
  try {
    await backendReady;
    const [runModel, splits] = await Promise.all([model(request), dataset(request.dataset)]);
    writeFlatWeights(runModel, request.weights);
    const set = examples(request, splits.test);
    const result = await evaluate(runModel, set, { batchSize: EVAL_BATCH_SIZE });
    const testSet = set === splits.test ? 'full' : 'sample';
    return { id: request.id, ok: true, ...result, testSet };
  } catch (error) {
    return {
      id: request.id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}

// One evaluation at a time, in arrival order: a chain of promises.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: EvaluationRequest) => {
  queue = queue.then(async () => {
    port.postMessage(await handle(request));
  });
});
