import { useEffect, useRef, useState } from 'react';
import { EngineClient } from '../engine/engine-client.js';
import type { EngineSnapshot } from '../engine/engine-messages.js';

/** What the page knows of its engine. */
export interface EngineView {
  readonly snapshot?: EngineSnapshot;
  /** The engine could not start (no backend) or its worker crashed. */
  readonly failure?: string;
  /** The session's last warning or error line (a retry, a rejected update). */
  readonly lastWarning?: string;
}

/**
 * Runs the engine's Web Worker while `contribute` is true, and forwards pause
 * and the duty cycle to it. Leaving the page (pagehide) stops the session, so
 * the coordinator sees a clean disconnect rather than a timeout.
 */
export function useEngine(contribute: boolean, paused: boolean, dutyCycle: number): EngineView {
  const [view, setView] = useState<EngineView>({});
  const client = useRef<EngineClient | undefined>(undefined);
  // Read when the engine starts; later changes go through their own effects.
  const initial = useRef({ paused, dutyCycle });
  useEffect(() => {
    initial.current = { paused, dutyCycle };
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
        case 'stopped':
          return;
      }
    });
    client.current = engine;
    if (initial.current.paused) engine.pause();
    engine.start(window.location.origin, initial.current.dutyCycle);
    const leave = () => void engine.stop();
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      client.current = undefined;
      void engine.stop();
      setView({});
    };
  }, [contribute]);

  useEffect(() => {
    if (paused) client.current?.pause();
    else client.current?.resume();
  }, [paused]);

  useEffect(() => {
    client.current?.setDutyCycle(dutyCycle);
  }, [dutyCycle]);

  return view;
}
