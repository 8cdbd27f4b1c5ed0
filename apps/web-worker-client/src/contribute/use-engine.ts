import { useEffect, useRef, useState } from 'react';
import type { Backend } from '@vtrain/protocol';
import { EngineClient } from '../engine/engine-client.js';
import type { BackendProbeReport, EngineSnapshot } from '../engine/engine-messages.js';
import { loadProbes, saveProbe } from './probe-cache.js';

/** What the page knows of its engine. */
export interface EngineView {
  readonly snapshot?: EngineSnapshot;
  /** The engine could not start (no backend) or its worker crashed. */
  readonly failure?: string;
  /** The session's last warning or error line (a retry, a rejected update). */
  readonly lastWarning?: string;
  /** The model whose backends are being timed right now. */
  readonly probing?: string;
  /** How the backend of the current run's model was chosen. */
  readonly probe?: BackendProbeReport;
}

/** How the engine picks its backend: forced (the URL's `?backend=`), else probed and remembered. */
export interface BackendOptions {
  readonly force?: Backend;
  /** Changing it restarts the engine (after the stored probes were forgotten: measure again). */
  readonly generation: number;
}

/**
 * Runs the engine's Web Worker while `contribute` is true, and forwards pause
 * and the duty cycle to it. Leaving the page (pagehide) stops the session, so
 * the coordinator sees a clean disconnect rather than a timeout. The engine
 * gets the backend probes of earlier visits and its new ones are stored.
 */
export function useEngine(
  contribute: boolean,
  paused: boolean,
  dutyCycle: number,
  backend: BackendOptions,
): EngineView {
  const [view, setView] = useState<EngineView>({});
  const client = useRef<EngineClient | undefined>(undefined);
  // Read when the engine starts; later changes go through their own effects.
  const initial = useRef({ paused, dutyCycle, force: backend.force });
  useEffect(() => {
    initial.current = { paused, dutyCycle, force: backend.force };
  });

  useEffect(() => {
    if (!contribute) return;
    const engine = new EngineClient((event) => {
      switch (event.type) {
        case 'snapshot':
          setView((v) => ({ ...v, snapshot: event.snapshot }));
          return;
        case 'log':
          setView((v) => ({ ...v, lastWarning: event.message }));
          return;
        case 'failed':
          setView((v) => ({ ...v, failure: event.message }));
          return;
        case 'probe-started':
          setView((v) => ({ ...v, probing: event.label }));
          return;
        case 'probe':
          saveProbe(localStorage, event.report);
          setView((v) => ({ ...v, probing: undefined, probe: event.report }));
          return;
        case 'stopped':
          return;
      }
    });
    client.current = engine;
    if (initial.current.paused) engine.pause();
    const { force } = initial.current;
    engine.start(
      window.location.origin,
      initial.current.dutyCycle,
      force === undefined ? { cachedProbes: loadProbes(localStorage) } : { forceBackend: force },
    );
    const leave = () => void engine.stop();
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      client.current = undefined;
      void engine.stop();
      setView({});
    };
  }, [contribute, backend.generation]);

  useEffect(() => {
    if (paused) client.current?.pause();
    else client.current?.resume();
  }, [paused]);

  useEffect(() => {
    client.current?.setDutyCycle(dutyCycle);
  }, [dutyCycle]);

  return view;
}
