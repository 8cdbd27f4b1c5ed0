/** One schedule's real-time run: real coordinator, real worker processes, wall clock. */
export interface RealtimeRun {
  readonly schedule: string;
  readonly seconds: number;
  readonly finalAccuracy: number | null;
  readonly versions: number;
  readonly updatesApplied: number;
  readonly samples: number;
}

/** `bench/results/realtime.json`. */
export interface RealtimeResult {
  readonly description: string;
  readonly workers: number;
  readonly dutyCycles: readonly number[];
  readonly runs: readonly RealtimeRun[];
}
