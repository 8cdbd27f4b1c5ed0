import type { Backend } from '@vtrain/protocol';
import type { BackendProbeReport, EngineCommand, EngineEvent } from './engine-messages.js';

/** How long a stop may take (an update in flight finishes first) before the worker is terminated. */
const STOP_GRACE_MS = 5_000;

/**
 * The page's handle on the engine's Web Worker: typed commands in, events out.
 * One instance is one worker and one coordinator session; after `stop` make a
 * new one.
 */
export class EngineClient {
  private readonly worker: Worker;
  private stopping: Promise<void> | undefined;

  constructor(onEvent: (event: EngineEvent) => void) {
    this.worker = new Worker(new URL('./engine.worker.ts', import.meta.url), {
      type: 'module',
      name: 'vtrain-engine',
    });
    this.worker.addEventListener('message', (event: MessageEvent<EngineEvent>) => {
      onEvent(event.data);
    });
    this.worker.addEventListener('error', (event) => {
      onEvent({ type: 'failed', message: `the engine worker failed: ${event.message}` });
    });
  }

  private send(command: EngineCommand): void {
    this.worker.postMessage(command);
  }

  start(
    url: string,
    dutyCycle: number,
    backend: { forceBackend?: Backend; cachedProbes?: readonly BackendProbeReport[] } = {},
  ): void {
    this.send({ type: 'start', url, dutyCycle, ...backend });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  setDutyCycle(fraction: number): void {
    this.send({ type: 'set-duty-cycle', fraction });
  }

  /** Asks the session to close its socket cleanly, then ends the worker (at the latest after a grace period). */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.worker.terminate();
        resolve();
      };
      const timer = setTimeout(done, STOP_GRACE_MS);
      this.worker.addEventListener('message', (event: MessageEvent<EngineEvent>) => {
        if (event.data.type === 'stopped') done();
      });
      this.send({ type: 'stop' });
    });
    return this.stopping;
  }
}
