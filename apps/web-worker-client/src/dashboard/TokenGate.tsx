import { useId, useState, type SyntheticEvent } from 'react';

export interface TokenGateProps {
  readonly onSubmit: (token: string) => void;
  /** Why the researcher is asked again (a refused token), if they are. */
  readonly notice?: string | undefined;
}

/**
 * Asks for the researcher token. The coordinator prints it at start (or takes
 * COORDINATOR_TOKEN); it is checked on the first researcher action, whose
 * failure says so plainly, so nothing is sent here.
 */
export function TokenGate({ onSubmit, notice }: TokenGateProps) {
  const [token, setToken] = useState('');
  const inputId = useId();
  const trimmed = token.trim();

  const submit = (event: SyntheticEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (trimmed !== '') onSubmit(trimmed);
  };

  return (
    <main className="token-gate">
      <form className="card token-card" onSubmit={submit}>
        <h1>vtrain · researcher dashboard</h1>
        <p className="muted">
          Enter the researcher token the coordinator printed when it started (or its
          COORDINATOR_TOKEN). It is kept for this browser session only.
        </p>
        {notice === undefined ? null : (
          <p className="error" role="alert">
            {notice}
          </p>
        )}
        <label htmlFor={inputId}>Researcher token</label>
        <input
          id={inputId}
          data-testid="token-input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(event) => {
            setToken(event.target.value);
          }}
        />
        <button type="submit" data-testid="token-submit" disabled={trimmed === ''}>
          Open the dashboard
        </button>
      </form>
    </main>
  );
}
