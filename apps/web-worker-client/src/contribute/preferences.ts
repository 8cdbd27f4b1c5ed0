import * as z from 'zod';

/**
 * What a volunteer chose, kept in localStorage so the next visit does the
 * same: whether this browser contributes, and the share of the machine it
 * may use (the engine's duty cycle).
 */
export const PreferencesSchema = z.object({
  contribute: z.boolean(),
  /** Fraction of wall time spent computing, in (0, 1]. */
  dutyCycle: z.number().gt(0).max(1),
});
export type Preferences = z.output<typeof PreferencesSchema>;

export const DEFAULT_PREFERENCES: Preferences = { contribute: false, dutyCycle: 1 };

export const PREFERENCES_KEY = 'vtrain.contribute';

/** The stored choice; anything unreadable (absent, edited by hand, an older shape) is the default. */
export function loadPreferences(storage: Storage): Preferences {
  let raw: unknown;
  try {
    raw = JSON.parse(storage.getItem(PREFERENCES_KEY) ?? 'null');
  } catch {
    return DEFAULT_PREFERENCES;
  }
  const parsed = PreferencesSchema.safeParse(raw);
  return parsed.success ? parsed.data : DEFAULT_PREFERENCES;
}

export function savePreferences(storage: Storage, preferences: Preferences): void {
  storage.setItem(PREFERENCES_KEY, JSON.stringify(PreferencesSchema.parse(preferences)));
}
