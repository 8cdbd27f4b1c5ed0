import type { EngineCommand, EngineEvent } from './engine-messages.js';

/**
 * The global scope of the engine's dedicated Web Worker, typed by the
 * messages it exchanges. The app compiles against the DOM lib (for the
 * pages), whose `self` is a Window; this names the few members of
 * DedicatedWorkerGlobalScope the engine uses instead of mixing in the
 * WebWorker lib, which conflicts with the DOM's.
 */
export interface EngineWorkerScope {
  postMessage(event: EngineEvent): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<EngineCommand>) => void): void;
  close(): void;
}

export const engineScope = self as unknown as EngineWorkerScope;
