import { useState } from 'react';
import { Dashboard } from './Dashboard.js';
import { TokenGate } from './TokenGate.js';
import { clearToken, loadToken, saveToken } from './token-store.js';

/** The page: the token gate until a token is kept in the session, then the dashboard. */
export function DashboardApp() {
  const [token, setToken] = useState<string | undefined>(() => loadToken());
  const [notice, setNotice] = useState<string | undefined>(undefined);

  if (token === undefined) {
    return (
      <TokenGate
        notice={notice}
        onSubmit={(entered) => {
          saveToken(entered);
          setNotice(undefined);
          setToken(entered);
        }}
      />
    );
  }
  return (
    <Dashboard
      token={token}
      onChangeToken={(reason) => {
        clearToken();
        setNotice(reason);
        setToken(undefined);
      }}
    />
  );
}
