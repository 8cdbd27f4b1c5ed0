import type { RunSummary } from '@vtrain/protocol';
import { useCallback, useState } from 'react';
import { CompareRuns } from './CompareRuns.js';
import { DatasetUpload } from './DatasetUpload.js';
import { LaunchForm } from './LaunchForm.js';
import { RunList } from './RunList.js';
import { RunView } from './RunView.js';
import { useDashboardSocket } from './use-dashboard-socket.js';
import { useRunList } from './use-run-list.js';

export interface DashboardProps {
  readonly token: string;
  /** Forgets the token and asks again, saying why. */
  readonly onChangeToken: (reason?: string) => void;
}

type View =
  | { readonly kind: 'default' }
  | { readonly kind: 'run'; readonly runId: string }
  | { readonly kind: 'launch' }
  | { readonly kind: 'datasets' }
  | { readonly kind: 'compare' };

const REFUSED =
  'The coordinator refused the researcher token (401 unauthorized). Enter the right token.';

/** Until the researcher picks something, show the newest active run, else the newest run. */
function defaultRun(runs: readonly RunSummary[] | undefined): string | undefined {
  return (runs?.find((r) => r.status === 'active') ?? runs?.[0])?.id;
}

/** The signed-in dashboard: one socket, the live run list, and one main view at a time. */
export function Dashboard({ token, onChangeToken }: DashboardProps) {
  const { socket, connected, error: socketError } = useDashboardSocket(token);
  const runList = useRunList(socket);
  const [view, setView] = useState<View>({ kind: 'default' });
  const [compared, setCompared] = useState<readonly string[]>([]);
  const [tokenRefused, setTokenRefused] = useState(false);

  const onUnauthorized = useCallback(() => {
    setTokenRefused(true);
  }, []);

  const openRunId =
    view.kind === 'run'
      ? view.runId
      : view.kind === 'default'
        ? defaultRun(runList.runs)
        : undefined;

  const toggleCompared = (runId: string): void => {
    setCompared((ids) =>
      ids.includes(runId) ? ids.filter((id) => id !== runId) : [...ids, runId],
    );
  };

  return (
    <div className="dashboard">
      <header className="topbar">
        <h1>vtrain</h1>
        <span className={connected ? 'conn conn-ok' : 'conn conn-down'} title={socketError}>
          {connected ? 'live' : (socketError ?? 'connecting...')}
        </span>
        <span className="spacer" />
        <button
          type="button"
          className="link-button"
          onClick={() => {
            onChangeToken();
          }}
        >
          Change token
        </button>
      </header>

      {tokenRefused ? (
        <div className="banner error" role="alert" data-testid="auth-error">
          {REFUSED}{' '}
          <button
            type="button"
            onClick={() => {
              onChangeToken(REFUSED);
            }}
          >
            Enter another token
          </button>
        </div>
      ) : null}

      <div className="layout">
        <aside className="sidebar">
          <button
            type="button"
            className="primary wide"
            data-testid="new-run"
            onClick={() => {
              setView({ kind: 'launch' });
            }}
          >
            + New run
          </button>
          <button
            type="button"
            className="wide"
            data-testid="open-datasets"
            onClick={() => {
              setView({ kind: 'datasets' });
            }}
          >
            Data sets (upload)
          </button>
          <RunList
            runs={runList.runs}
            error={runList.error}
            openRunId={openRunId}
            compared={compared}
            onOpen={(runId) => {
              setView({ kind: 'run', runId });
            }}
            onToggleCompared={toggleCompared}
          />
          <button
            type="button"
            className="wide"
            data-testid="compare-runs"
            disabled={compared.length < 2}
            onClick={() => {
              setView({ kind: 'compare' });
            }}
          >
            Compare {compared.length >= 2 ? `${compared.length} runs` : '(tick 2 or more)'}
          </button>
        </aside>

        <main className="content">
          {view.kind === 'launch' ? (
            <LaunchForm
              token={token}
              onUnauthorized={onUnauthorized}
              onLaunched={(runId) => {
                runList.refresh();
                setView({ kind: 'run', runId });
              }}
            />
          ) : view.kind === 'datasets' ? (
            <DatasetUpload token={token} onUnauthorized={onUnauthorized} />
          ) : view.kind === 'compare' ? (
            <CompareRuns runs={runList.runs ?? []} runIds={compared} />
          ) : openRunId === undefined ? (
            <p className="muted empty">
              {runList.runs === undefined ? 'Loading runs...' : 'No runs yet: launch one.'}
            </p>
          ) : (
            <RunView
              key={openRunId}
              socket={socket}
              runId={openRunId}
              token={token}
              onUnauthorized={onUnauthorized}
              onStopped={runList.refresh}
            />
          )}
        </main>
      </div>
    </div>
  );
}
