/** Number formatting for the dashboard's tables and headers. */

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** Decimal units (1 kB = 1000 B), as network rates are usually quoted. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit] ?? 'B'}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** "3 s ago" from two epoch-millisecond times; a clock slightly ahead still reads "just now". */
export function formatAgo(at: number, now: number): string {
  const seconds = Math.round((now - at) / 1000);
  if (seconds <= 1) return 'just now';
  if (seconds < 120) return `${seconds} s ago`;
  return `${formatDuration(seconds)} ago`;
}

/** A fraction as a percentage; 0 is a value ("0.0%"), only a missing one is "–". */
export function formatPercent(fraction: number | undefined): string {
  return fraction === undefined ? '–' : `${(fraction * 100).toFixed(1)}%`;
}

/** A count with thousands separators, the same in every locale: 2,000. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** What a test figure is over: the evaluation's version and its examples. */
export interface EvaluationScope {
  readonly version: number;
  /** Absent on points recorded before the coordinator said (protocol 1). */
  readonly testExamples?: number | undefined;
  readonly testSet?: 'sample' | 'full' | undefined;
}

/** "version 50, sample of 2,000 examples", "version 80, whole test set (10,000)". */
export function describeEvaluation(scope: EvaluationScope): string {
  const { version, testExamples, testSet } = scope;
  if (testExamples === undefined) return `version ${version}`;
  return testSet === 'full'
    ? `version ${version}, whole test set (${formatCount(testExamples)})`
    : `version ${version}, sample of ${formatCount(testExamples)} examples`;
}

export function formatNumber(value: number | undefined, digits = 3): string {
  return value === undefined ? '–' : value.toFixed(digits);
}
