import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_PREFERENCES,
  loadPreferences,
  PREFERENCES_KEY,
  savePreferences,
} from './preferences.js';

beforeEach(() => {
  localStorage.clear();
});

describe('volunteer preferences', () => {
  it('default to not contributing, at full speed', () => {
    expect(loadPreferences(localStorage)).toEqual({ contribute: false, dutyCycle: 1 });
  });

  it('survive a round trip through storage', () => {
    savePreferences(localStorage, { contribute: true, dutyCycle: 0.25 });
    expect(loadPreferences(localStorage)).toEqual({ contribute: true, dutyCycle: 0.25 });
  });

  it('fall back to the default for anything unreadable', () => {
    for (const stored of [
      '{not json',
      '42',
      '{"contribute":"yes","dutyCycle":1}',
      '{"contribute":true,"dutyCycle":0}',
    ]) {
      localStorage.setItem(PREFERENCES_KEY, stored);
      expect(loadPreferences(localStorage), stored).toEqual(DEFAULT_PREFERENCES);
    }
  });

  it('refuse to store a duty cycle outside (0, 1]', () => {
    expect(() => {
      savePreferences(localStorage, { contribute: true, dutyCycle: 1.5 });
    }).toThrow();
    expect(localStorage.getItem(PREFERENCES_KEY)).toBeNull();
  });
});
