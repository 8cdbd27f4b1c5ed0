/**
 * Child process of the checkpoint crash test: writes large checkpoints of one run in a loop,
 * versions `start`, `start + 1`, ... until the parent kills it with SIGKILL.
 *
 * Usage: node --import tsx checkpoint-crash-writer.ts <dir> <runId> <start>
 */
import { CheckpointStore } from '../checkpoints.js';
import { crashBaseWeights, crashCheckpoint } from './crash-pattern.js';

const [dir, runId, start] = process.argv.slice(2);
if (dir === undefined || runId === undefined || start === undefined) {
  throw new Error('usage: checkpoint-crash-writer <dir> <runId> <start>');
}
const store = new CheckpointStore(dir);
const base = crashBaseWeights();
for (let version = Number(start); ; version++) {
  await store.write(runId, crashCheckpoint(version, base));
}
