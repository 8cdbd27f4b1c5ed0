import { Worker } from 'node:worker_threads';
import type { TestSet } from '@vtrain/protocol';
import type { EvaluationReply, EvaluationRequest } from './protocol.js';

/**
 * Built, the thread is plain JS. From the TypeScript sources (tests) it first
 * registers tsx inside the thread: Node 20 ignores `--import` in a worker's execArgv.
 */
function threadEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./evaluator-thread.js', import.meta.url);
  const thread = new URL('./evaluator-thread.ts', import.meta.url).href;
  const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register();
await import(${JSON.stringify(thread)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

export interface EvaluationResult {
  readonly loss: number;
  readonly accuracy: number;
  readonly examples: number;
  readonly testSet: TestSet;
}

/**
 * Evaluates global models on held-out data in a worker thread. Requests queue
 * in the thread; callers keep at most one in flight per run (see RunManager).
 */
export class Evaluator {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: EvaluationResult) => void; reject: (e: Error) => void }
  >();

  constructor() {
    this.worker = new Worker(threadEntry());
    this.worker.on('message', (reply: EvaluationReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(`evaluation failed: ${reply.message}`));
    });
    this.worker.on('error', (error) => {
      this.failAll(error);
    });
    this.worker.on('exit', (code) => {
      this.failAll(new Error(`evaluation thread exited with code ${code}`));
    });
  }

  /** `request.weights` is transferred: pass a copy the caller no longer needs. */
  evaluate(request: Omit<EvaluationRequest, 'id'>): Promise<EvaluationResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, [request.weights.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
