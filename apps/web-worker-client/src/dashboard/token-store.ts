/**
 * The researcher token, kept in sessionStorage: it survives a reload of the
 * tab but not the end of the browser session, and is never written to disk
 * the way localStorage would keep it.
 */

const KEY = 'vtrain.researcherToken';

export function loadToken(storage: Storage = sessionStorage): string | undefined {
  const token = storage.getItem(KEY);
  return token === null || token === '' ? undefined : token;
}

export function saveToken(token: string, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, token);
}

export function clearToken(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}
