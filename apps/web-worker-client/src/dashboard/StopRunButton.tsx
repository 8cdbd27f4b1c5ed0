import { useState } from 'react';
import { stopRun } from '../shared/api.js';
import { describeError, isUnauthorized } from './errors.js';

export interface StopRunButtonProps {
  readonly runId: string;
  readonly token: string;
  readonly disabled: boolean;
  readonly onUnauthorized: () => void;
  readonly onStopped: () => void;
}

/**
 * Stops a run over HTTP with the token: the coordinator evaluates on the whole
 * test set and checkpoints first, so this can take a few seconds; the status
 * change itself arrives as a run-status notice. No confirm() dialog: scripted
 * browsers dismiss it, and the run's weights stay exportable after a stop.
 */
export function StopRunButton({
  runId,
  token,
  disabled,
  onUnauthorized,
  onStopped,
}: StopRunButtonProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const stop = (): void => {
    setBusy(true);
    setError(undefined);
    stopRun(token, runId).then(
      () => {
        setBusy(false);
        onStopped();
      },
      (failure: unknown) => {
        setBusy(false);
        setError(`Stopping failed: ${describeError(failure)}`);
        if (isUnauthorized(failure)) onUnauthorized();
      },
    );
  };

  return (
    <span className="action">
      <button
        type="button"
        className="danger"
        data-testid="stop-run"
        disabled={disabled || busy}
        onClick={stop}
      >
        {busy ? 'Stopping...' : 'Stop run'}
      </button>
      {error === undefined ? null : (
        <span className="error" role="alert" data-testid="stop-run-error">
          {error}
        </span>
      )}
    </span>
  );
}
