import { parentPort } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { DATASET_INFO, buildModel, evaluate, writeFlatWeights } from '@vtrain/ml';
import { loadDataset, useFastestNodeBackend } from '@vtrain/ml/node';
import type { DatasetSplits } from '@vtrain/ml';
import type { DatasetName } from '@vtrain/protocol';
import type { EvaluationReply, EvaluationRequest } from './protocol.js';

// Runs in a worker thread: tfjs inference on the held-out set takes tens of
// milliseconds to seconds, which the coordinator's event loop must not wait on.

const port = parentPort;
if (!port) throw new Error('evaluator-thread must run in a worker thread');

const backendReady = useFastestNodeBackend();
const datasets = new Map<DatasetName, Promise<DatasetSplits>>();
const models = new Map<string, Promise<tf.LayersModel>>();
const EVAL_BATCH_SIZE = 500;

function dataset(name: DatasetName): Promise<DatasetSplits> {
  let splits = datasets.get(name);
  if (!splits) {
    splits = loadDataset(name);
    datasets.set(name, splits);
  }
  return splits;
}

function model(request: EvaluationRequest): Promise<tf.LayersModel> {
  let built = models.get(request.runId);
  if (!built) {
    built = buildModel(request.model, DATASET_INFO[request.dataset], request.seed, {
      maxParameters: request.weights.length,
    });
    models.set(request.runId, built);
  }
  return built;
}

async function handle(request: EvaluationRequest): Promise<EvaluationReply> {
  try {
    await backendReady;
    const [runModel, splits] = await Promise.all([model(request), dataset(request.dataset)]);
    writeFlatWeights(runModel, request.weights);
    const result = await evaluate(runModel, splits.test, {
      batchSize: EVAL_BATCH_SIZE,
      ...(request.limit === undefined ? {} : { limit: request.limit }),
    });
    return { id: request.id, ok: true, ...result };
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
