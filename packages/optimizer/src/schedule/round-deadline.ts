import type { RoundDeadline } from './config.js';
import { quantile } from './quantile.js';

/**
 * How long a batch may stay open, in ms (docs/algorithms.md#synchronous-rounds-and-deadlines:
 * a round closes at a deadline
 * derived from recent step times, so stragglers are dropped and never waited on forever):
 * `clamp(minMs, maxMs, slack * quantile(recent, config.quantile))` where `recent` is the last
 * `config.window` entries of `samples`; `maxMs` before any sample.
 *
 * @param config - a validated {@link RoundDeadline}.
 * @param samples - recent `stepMs` reports, oldest first.
 */
export function roundDeadlineMs(config: RoundDeadline, samples: readonly number[]): number {
  if (samples.length === 0) return config.maxMs;
  const recent = samples.length > config.window ? samples.slice(-config.window) : samples;
  const wanted = config.slack * quantile(recent, config.quantile);
  return Math.min(config.maxMs, Math.max(config.minMs, wanted));
}
