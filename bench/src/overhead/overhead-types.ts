/** `bench/results/overhead.json`. */
export interface OverheadResult {
  readonly description: string;
  readonly bareSamplesPerSecond: number;
  readonly workerSamplesPerSecond: number;
  readonly ratio: number;
}
