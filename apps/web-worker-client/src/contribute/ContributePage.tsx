import { useState } from 'react';
import { totalRejected } from '@vtrain/protocol';
import type { WorkerStatus } from '@vtrain/worker';
import { formatBytes } from '@vtrain/worker/status-line';
import { BackendProbe } from './BackendProbe.js';
import { contributionShare, type UpdateTally } from './contribution-share.js';
import { loadPreferences, savePreferences, type Preferences } from './preferences.js';
import { backendOverride, forgetProbes } from './probe-cache.js';
import { Stat } from './Stat.js';
import { useEngine } from './use-engine.js';
import { useRunProgress } from './use-run-progress.js';

const STATE_TEXT: Record<WorkerStatus['state'] | 'idle', string> = {
  idle: 'Not contributing',
  connecting: 'Connecting to the coordinator…',
  'waiting-for-run': 'Connected; waiting for a run to open',
  loading: 'Loading the run (data shard and model)…',
  training: 'Training',
  paused: 'Paused',
  stopped: 'Stopped',
  error: 'Stopped by an error',
};

const DUTY_CYCLES = [0.1, 0.25, 0.5, 0.75, 1] as const;

function percent(fraction: number | undefined, digits = 1): string {
  return fraction === undefined ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

function describePhase(phase: { phase: string; k?: number; n?: number } | undefined): string {
  if (phase === undefined) return '—';
  return phase.k === undefined
    ? phase.phase
    : `${phase.phase} (K ${phase.k} of N ${phase.n ?? '?'})`;
}

/** Updates the coordinator took: applied on arrival, or buffered into a round. */
function accepted(status: WorkerStatus): number {
  return status.updatesApplied + status.updatesBuffered;
}

/**
 * The volunteer's page: one control to contribute (remembered for the next
 * visit), pause and a limit on the machine share, and what the tab's engine is
 * doing, live. The engine runs in a Web Worker; this only renders its snapshots.
 */
export function ContributePage() {
  const [preferences, setPreferences] = useState<Preferences>(() => loadPreferences(localStorage));
  const [paused, setPaused] = useState(false);
  // `?backend=webgpu` (or webgl, wasm, cpu) forces a backend, for tests and for the curious.
  const [override] = useState(() => backendOverride(window.location.search));
  const [generation, setGeneration] = useState(0);
  const engine = useEngine(preferences.contribute, paused, preferences.dutyCycle, {
    force: override.backend,
    generation,
  });
  const status = engine.snapshot?.status;
  const progress = useRunProgress(status?.runId);

  const choose = (next: Preferences) => {
    setPreferences(next);
    savePreferences(localStorage, next);
  };

  // The share is measured from the first run figures seen in this visit (see contributionShare);
  // the baseline is derived state, set during render when a new run first reports.
  const [baseline, setBaseline] = useState<{ runId: string; tally: UpdateTally } | undefined>();
  const tally =
    status?.runId !== undefined && progress !== undefined
      ? { runId: status.runId, tally: { mine: accepted(status), run: progress.updatesApplied } }
      : undefined;
  if (tally !== undefined && baseline?.runId !== tally.runId) setBaseline(tally);
  const share =
    tally !== undefined && baseline?.runId === tally.runId
      ? contributionShare(baseline.tally, tally.tally)
      : undefined;

  // Phase notices only tell of changes; until one arrives, the run's latest point says.
  const phase =
    status?.phase !== undefined
      ? { phase: status.phase, k: status.k, n: status.n }
      : progress?.phase !== undefined
        ? { phase: progress.phase, k: progress.k, n: progress.activeWorkers }
        : undefined;
  const state = engine.failure !== undefined ? 'error' : (status?.state ?? 'idle');
  const rejected = status ? totalRejected(status.updatesRejected) : 0;
  const cache = engine.snapshot?.shardCache;

  return (
    <main className="contribute">
      <header>
        <h1>Train a model with your browser</h1>
        <p>
          While this tab contributes, it computes gradients for a shared model on your GPU (or CPU)
          and sends compressed updates to the coordinator. Nothing else on your machine is read.
        </p>
      </header>

      <section className="controls">
        <button
          type="button"
          className="primary"
          data-testid="contribute-toggle"
          aria-pressed={preferences.contribute}
          onClick={() => {
            setPaused(false);
            choose({ ...preferences, contribute: !preferences.contribute });
          }}
        >
          {preferences.contribute ? 'Stop contributing' : 'Contribute'}
        </button>
        <button
          type="button"
          data-testid="pause-toggle"
          disabled={!preferences.contribute}
          aria-pressed={paused}
          onClick={() => {
            setPaused(!paused);
          }}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <label>
          Use at most{' '}
          <select
            data-testid="duty-cycle"
            value={preferences.dutyCycle}
            onChange={(event) => {
              choose({ ...preferences, dutyCycle: Number(event.target.value) });
            }}
          >
            {DUTY_CYCLES.map((d) => (
              <option key={d} value={d}>
                {percent(d, 0)}
              </option>
            ))}
          </select>{' '}
          of the time
        </label>
      </section>

      {override.error !== undefined && (
        <p className="small warning" data-testid="backend-override-error">
          {override.error}
        </p>
      )}

      <p className={`state state-${state}`} data-testid="state" data-state={state} role="status">
        {STATE_TEXT[state]}
        {engine.failure !== undefined && `: ${engine.failure}`}
        {engine.failure === undefined && status?.message !== undefined && ` (${status.message})`}
      </p>

      {status !== undefined && (
        <>
          <section className="facts">
            <p data-testid="backend" data-backend={status.backend.name}>
              Compute backend: <strong>{status.backend.name}</strong>
              {status.backend.reason !== undefined && (
                <span className="why" data-testid="backend-reason">
                  {' '}
                  — {status.backend.reason}
                </span>
              )}
            </p>
            <p data-testid="run-name">
              Run: <strong>{status.runName ?? '—'}</strong>
              {status.model !== undefined && ` · ${status.model}`}
              {status.parameterCount !== undefined &&
                ` · ${status.parameterCount.toLocaleString()} parameters`}
            </p>
          </section>

          <BackendProbe
            probing={engine.probing}
            report={engine.probe}
            onMeasureAgain={() => {
              forgetProbes(localStorage, engine.probe?.key);
              setGeneration((g) => g + 1);
            }}
          />

          <section className="stats">
            <Stat id="steps" label="Steps" value={status.steps} />
            <Stat id="samples" label="Samples" value={status.samples} />
            <Stat
              id="samples-per-second"
              label="Samples/s"
              value={status.samplesPerSecond}
              text={status.samplesPerSecond.toFixed(1)}
            />
            <Stat id="updates-sent" label="Updates sent" value={status.updatesSent} />
            <Stat id="updates-accepted" label="Accepted" value={accepted(status)} />
            <Stat id="updates-rejected" label="Rejected" value={rejected} />
            <Stat
              id="bytes-up"
              label="Uploaded"
              value={status.bytesUp}
              text={formatBytes(status.bytesUp)}
            />
            <Stat
              id="bytes-down"
              label="Downloaded"
              value={status.bytesDown}
              text={formatBytes(status.bytesDown)}
            />
            <Stat id="phase" label="Phase" value={phase?.phase} text={describePhase(phase)} />
            <Stat id="staleness" label="Staleness of last update" value={status.lastStaleness} />
            <Stat id="version" label="Model version" value={status.version} />
            <Stat
              id="global-accuracy"
              label="Global test accuracy"
              value={progress?.testAccuracy}
              text={percent(progress?.testAccuracy)}
            />
            <Stat
              id="contribution-share"
              label="Your share since you joined"
              value={share}
              text={percent(share)}
            />
            <Stat id="tensors" label="Tensors in memory" value={engine.snapshot?.tensors} />
          </section>

          <p
            className="small"
            data-testid="shard-cache"
            data-hits={cache?.hits}
            data-misses={cache?.misses}
          >
            Data shard: {cache?.hits ?? 0} from the browser cache, {cache?.misses ?? 0} downloaded
            {cache?.unavailable !== undefined && ` (${cache.unavailable})`}
          </p>
          {engine.lastWarning !== undefined && (
            <p className="small warning" data-testid="last-warning">
              Last warning: {engine.lastWarning}
            </p>
          )}
        </>
      )}
    </main>
  );
}
