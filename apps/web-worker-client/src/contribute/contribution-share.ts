/** Updates counted at one moment: this tab's accepted ones, and the run's applied ones. */
export interface UpdateTally {
  readonly mine: number;
  readonly run: number;
}

/**
 * This tab's share of the run's updates between two moments:
 * (mine_now - mine_then) / (run_now - run_then). Measured over the same
 * interval on both sides, because the tab counts since it started while the
 * run counts since it was created. Undefined until the run has moved.
 */
export function contributionShare(then: UpdateTally, now: UpdateTally): number | undefined {
  const run = now.run - then.run;
  if (run <= 0) return undefined;
  return Math.min(1, Math.max(0, (now.mine - then.mine) / run));
}
