import { describe, expect, it } from 'vitest';
import type { ResultGroup } from '../experiments/grid.js';
import type { SimulationResult } from '../sim/simulate.js';
import { goalsSection } from './goals.js';
import { hybridVerdict, intervalText, verdictSentence } from './verdict.js';

function groupOf(key: string, accuracies: readonly number[]): ResultGroup {
  return {
    key,
    label: key,
    params: {},
    runs: accuracies.map(
      (finalAccuracy, i) => ({ seed: i + 1, finalAccuracy }) as unknown as SimulationResult,
    ),
  };
}

describe('P1 verdict', () => {
  const sync = groupOf('sync', [0.9, 0.91, 0.92, 0.9, 0.91]);
  const async = groupOf('async', [0.93, 0.92, 0.94, 0.93, 0.92]);

  it('beats both only when both paired intervals lie above 0', () => {
    const clear = hybridVerdict(
      groupOf('hybrid-linear', [0.95, 0.95, 0.96, 0.95, 0.945]),
      sync,
      async,
    );
    expect(clear.beatsBothClearly).toBe(true);
    expect(clear.seedsBeatingBoth).toBe(5);
    expect(verdictSentence(clear)).toContain('beats both pure modes**');
    // Ahead on the mean over async, but one seed behind: the interval spans 0.
    const close = hybridVerdict(
      groupOf('hybrid-linear', [0.95, 0.91, 0.95, 0.94, 0.93]),
      sync,
      async,
    );
    expect(close.beatsBothOnMean).toBe(true);
    expect(close.overAsync.sign).toBe('spans');
    expect(close.beatsBothClearly).toBe(false);
    expect(verdictSentence(close)).toContain('does not beat both pure modes');
    expect(verdictSentence(close)).toContain('against asynchronous it shows no clear difference');
  });

  it('pairs by seed: a constant per-seed gap has a zero-width interval', () => {
    const shifted = groupOf('hybrid-linear', [0.88, 0.89, 0.9, 0.88, 0.89]);
    const v = hybridVerdict(shifted, sync, async);
    expect(v.overSync.difference.mean).toBeCloseTo(-0.02, 12);
    expect(v.overSync.difference.high).toBeCloseTo(-0.02, 12);
    expect(v.overSync.sign).toBe('below');
    expect(intervalText(v.overSync)).toBe('−2.00 points (95% CI −2.00 to −2.00)');
  });

  it('the goals row is met only for a tuned experiment whose hybrid beats both', () => {
    const hybrid = groupOf('hybrid-linear', [0.95, 0.95, 0.96, 0.95, 0.945]);
    const base = { id: 'exp1', title: '', suite: 'full', parameters: {}, harnessSeconds: 0 };
    const row = (tuned: boolean): string =>
      goalsSection({
        schedules: {
          ...base,
          groups: [sync, async, hybrid],
          ...(tuned ? { tuning: [] } : {}),
        },
      })
        .join('\n')
        .split('\n')
        .find((l) => l.startsWith('| P1')) ?? '';
    expect(row(true)).toContain('**met**');
    expect(row(false)).toContain('| not met |');
    expect(row(false)).toContain('untuned');
  });
});
