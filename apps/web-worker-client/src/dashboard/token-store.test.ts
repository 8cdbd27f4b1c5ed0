import { beforeEach, describe, expect, it } from 'vitest';
import { clearToken, loadToken, saveToken } from './token-store.js';

describe('token store', () => {
  beforeEach(() => {
    sessionStorage.clear();
    localStorage.clear();
  });

  it('keeps the token in sessionStorage only', () => {
    expect(loadToken()).toBeUndefined();
    saveToken('secret');
    expect(loadToken()).toBe('secret');
    expect(sessionStorage.length).toBe(1);
    expect(localStorage.length).toBe(0);
    clearToken();
    expect(loadToken()).toBeUndefined();
  });
});
