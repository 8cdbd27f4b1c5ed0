import * as z from 'zod';
import { BackendSchema, type Backend } from '@vtrain/protocol';
import type { BackendProbeReport } from '../engine/engine-messages.js';

/*
 * The engine's backend probes, kept in localStorage so the next visit trains
 * on the fastest backend at once instead of spending seconds measuring again
 * (the page's "Measure again" forgets them). The Web Worker has no
 * localStorage: the page hands the stored probes to it when it starts and
 * stores what it reports.
 */

export const PROBE_CACHE_KEY = 'vtrain.backend-probes';

/** Probes kept at most (the latest); one per model and batch size a volunteer met. */
export const MAX_STORED_PROBES = 8;

const text = (max: number) => z.string().max(max);

const MeasurementSchema = z.discriminatedUnion('outcome', [
  z.strictObject({
    name: BackendSchema,
    outcome: z.literal('measured'),
    msPerStep: z.number().nonnegative(),
    steps: z.int().positive(),
    firstStepMs: z.number().nonnegative(),
  }),
  z.strictObject({
    name: BackendSchema,
    outcome: z.literal('over-budget'),
    firstStepMs: z.number().nonnegative(),
  }),
  z.strictObject({ name: BackendSchema, outcome: z.literal('failed'), reason: text(1_000) }),
]);

/** A stored probe; anything else in storage (edited by hand, an older shape) is dropped. */
export const StoredProbeSchema = z.strictObject({
  key: text(500),
  label: text(200),
  source: z.literal('probed'),
  choice: z.strictObject({ name: BackendSchema, reason: text(1_000) }),
  measurements: z.array(MeasurementSchema).max(8),
  adapter: z
    .strictObject({
      vendor: text(200).optional(),
      architecture: text(200).optional(),
      device: text(200).optional(),
      description: text(200).optional(),
      isFallbackAdapter: z.boolean().optional(),
    })
    .optional(),
  measuredAt: z.number().nonnegative(),
}) satisfies z.ZodType<BackendProbeReport>;

/** The stored probes, latest first; unreadable ones are left out. */
export function loadProbes(storage: Storage): BackendProbeReport[] {
  let raw: unknown;
  try {
    raw = JSON.parse(storage.getItem(PROBE_CACHE_KEY) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw
    .flatMap((item) => {
      const parsed = StoredProbeSchema.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    })
    .sort((a, b) => b.measuredAt - a.measuredAt)
    .slice(0, MAX_STORED_PROBES);
}

/** Keeps a fresh probe (replacing an older one of the same key); cached and forced ones are not stored. */
export function saveProbe(storage: Storage, report: BackendProbeReport): void {
  if (report.source !== 'probed') return;
  const stored = StoredProbeSchema.parse(report);
  const kept = loadProbes(storage).filter((p) => p.key !== stored.key);
  storage.setItem(PROBE_CACHE_KEY, JSON.stringify([stored, ...kept].slice(0, MAX_STORED_PROBES)));
}

/** Forgets the probe of `key`, or every probe without one. */
export function forgetProbes(storage: Storage, key?: string): void {
  if (key === undefined) {
    storage.removeItem(PROBE_CACHE_KEY);
    return;
  }
  storage.setItem(
    PROBE_CACHE_KEY,
    JSON.stringify(loadProbes(storage).filter((p) => p.key !== key)),
  );
}

/** The `?backend=` override of the page's URL: a backend, or a message for a bad value. */
export function backendOverride(search: string): { backend?: Backend; error?: string } {
  const value = new URLSearchParams(search).get('backend');
  if (value === null || value === '') return {};
  const parsed = BackendSchema.safeParse(value);
  return parsed.success
    ? { backend: parsed.data }
    : {
        error: `?backend=${value.slice(0, 40)} is not one of ${BackendSchema.options.join(', ')}; measuring the backends instead`,
      };
}
