/** One attack of `--only hostile`: what the coordinator did and the honest accuracy with and without it. */
export interface HostileRow {
  readonly attack: string;
  /** What the coordinator did, in one line (from the attack's own tally of the replies it got). */
  readonly did: string;
  /** Final accuracy on the whole held-out set, the same run without the attack. */
  readonly without: number;
  /** The same, with the attack alongside. */
  readonly with: number;
  readonly weightsFinite: boolean;
  /** The run's reject counters at its end. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Honest updates refused (backed off or gone on after), by reason. */
  readonly honestRefused: Readonly<Record<string, number>>;
  /** The attack's own figures and what it checked after the run. */
  readonly figures: Readonly<Record<string, unknown>>;
  readonly after: Readonly<Record<string, unknown>>;
  readonly seconds: number;
}

/** `bench/results/hostile.json`. */
export interface HostileResult {
  readonly suite: string;
  readonly parameters: {
    readonly honestWorkers: number;
    readonly updatesPerWorker: number;
    readonly testExamples: number;
    readonly config: string;
  };
  /** Accuracy of each run without an attack: in process (the baseline), as a process (the restart's), in process again after the attacks. */
  readonly baselines: readonly number[];
  readonly rows: readonly HostileRow[];
}
