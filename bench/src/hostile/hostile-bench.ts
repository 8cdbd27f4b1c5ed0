import {
  canMountTmpfs,
  diskFull,
  emptyUpdates,
  hugeValues,
  lyingClaims,
  manyIdentities,
  restartWithStaleWorkers,
  runScenario,
  sybilFlood,
  type Attack,
} from '@vtrain/coordinator/hostile-scenarios';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import type { HostileResult, HostileRow } from './hostile-types.js';

/**
 * Issue #14's table: each attack of the hostile suite against the same honest run (two
 * real tfjs workers on a real coordinator, every safety default, a fixed number of accepted
 * honest updates), and that run's final accuracy on the whole held-out set with and without
 * the attack. The integration test (hostile-accuracy.test.ts) asserts the bounds on a smaller
 * budget; this measures with a larger one and writes the table.
 */
export async function runHostileBench(
  suite: string,
  log: (line: string) => void,
): Promise<HostileResult> {
  const backend = await useFastestNodeBackend();
  const updatesPerWorker = suite === 'quick' ? 300 : 600;
  const hellos = Number(process.env.VTRAIN_HELLOS ?? (suite === 'quick' ? 20_000 : 1_000_000));
  const options = { updatesPerWorker };
  log(`hostile: backend ${backend}, 1 honest worker x ${updatesPerWorker} accepted updates`);
  const baselines: number[] = [];
  const clean = await runScenario(undefined, options);
  baselines.push(clean.accuracy);
  log(`hostile: no attack: ${(clean.accuracy * 100).toFixed(2)}% in ${clean.seconds.toFixed(0)} s`);
  // The restart's baseline: the coordinator as its own process, as it is in that scenario.
  const cleanProcess = await runScenario(undefined, { ...options, host: { process: true } });
  baselines.push(cleanProcess.accuracy);
  log(`hostile: no attack, coordinator as a process: ${(cleanProcess.accuracy * 100).toFixed(2)}%`);
  const attacks: Attack[] = [
    hugeValues({ warmup: false }),
    hugeValues({ warmup: true }),
    sybilFlood({ oneAddress: 100, spread: 100 }),
    emptyUpdates(100),
    lyingClaims(40),
    manyIdentities({ hellos, connections: 200 }),
    ...(canMountTmpfs() ? [diskFull()] : []),
    restartWithStaleWorkers(),
  ];
  const rows: HostileRow[] = [];
  for (const attack of attacks) {
    const result = await runScenario(attack, options);
    const row: HostileRow = {
      attack: result.name,
      did: result.report?.did ?? '',
      without: attack.host?.process ? cleanProcess.accuracy : clean.accuracy,
      with: result.accuracy,
      weightsFinite: result.weightsFinite,
      rejected: result.rejected,
      honestRefused: result.honestRefused,
      figures: result.report?.figures ?? {},
      after: result.after,
      seconds: Math.round(result.seconds),
    };
    rows.push(row);
    log(
      `hostile: ${row.attack}: ${(row.with * 100).toFixed(2)}% (without ${(row.without * 100).toFixed(2)}%), ` +
        `weights ${row.weightsFinite ? 'finite' : 'NOT finite'}; ${row.did}; ${JSON.stringify(row.after)}`,
    );
  }
  // A third clean run, after the attacks: how far runs without an attack land apart.
  const again = await runScenario(undefined, options);
  baselines.push(again.accuracy);
  log(`hostile: no attack, again: ${(again.accuracy * 100).toFixed(2)}%`);
  log('');
  log('attack | what the coordinator did | honest accuracy without | with');
  for (const row of rows) {
    log(
      `${row.attack} | ${row.did} | ${(row.without * 100).toFixed(2)}% | ${(row.with * 100).toFixed(2)}%`,
    );
  }
  return {
    suite,
    parameters: {
      honestWorkers: 1,
      updatesPerWorker,
      testExamples: clean.testExamples,
      config:
        'synthetic data, MLP 784-16-10, SGD 0.3, batch 128, 10% top-k with error feedback, async, guarded mean and per-worker cap (defaults)',
    },
    baselines,
    rows,
  };
}
