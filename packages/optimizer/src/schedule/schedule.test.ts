import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUND_DEADLINE, type ScheduleConfig } from './config.js';
import { ScheduleError } from './errors.js';
import type { PhaseCommand, ScheduleCommand, ScheduleEvent } from './events.js';
import { createSchedule, currentPhase, type ScheduleState } from './state.js';
import { step, stepAll } from './step.js';

/** The code of the ScheduleError `fn` throws ('none' if it returns, 'other' for another error). */
function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof ScheduleError ? error.code : 'other';
  }
  return 'none';
}

// Defaults: slack 2, quantile 0.9, window 20, minMs 1000, maxMs 60000.
const deadline = DEFAULT_ROUND_DEADLINE;
const staleness = { maxStaleness: 32 };

const join = (workerId: string, at = 0): ScheduleEvent => ({ type: 'worker-joined', workerId, at });
const leave = (workerId: string, at: number): ScheduleEvent => ({
  type: 'worker-left',
  workerId,
  at,
});
const update = (
  workerId: string,
  seq: number,
  baseVersion: number,
  at: number,
  stepMs = 100,
): ScheduleEvent => ({ type: 'update-arrived', workerId, seq, baseVersion, stepMs, at });
const tick = (at: number): ScheduleEvent => ({ type: 'tick', at });
const evaluated = (loss: number, at: number): ScheduleEvent => ({ type: 'evaluated', loss, at });

const phase = (
  p: PhaseCommand['phase'],
  k: number,
  n: number,
  localSteps?: number,
): PhaseCommand =>
  localSteps === undefined
    ? { type: 'phase', phase: p, k, n }
    : { type: 'phase', phase: p, k, n, localSteps };
const buffered = (workerId: string, seq: number): ScheduleCommand => ({
  type: 'buffered',
  workerId,
  seq,
});
const wakeAt = (at: number): ScheduleCommand => ({ type: 'wake-at', at });
const apply = (version: number, ...updates: [string, number, number][]): ScheduleCommand => ({
  type: 'apply',
  version,
  updates: updates.map(([workerId, seq, s]) => ({ workerId, seq, staleness: s })),
});
const reject = (
  workerId: string,
  seq: number,
  reason: 'stale' | 'duplicate' | 'unknown-worker' | 'future-version' | 'late',
): ScheduleCommand => ({ type: 'reject', workerId, seq, reason });

/** Runs `events` and returns the state and the commands of each event separately. */
function trace(state: ScheduleState, events: ScheduleEvent[]) {
  const perEvent: (readonly ScheduleCommand[])[] = [];
  let current = state;
  for (const event of events) {
    const result = step(current, event);
    current = result.state;
    perEvent.push(result.commands);
  }
  return { state: current, perEvent };
}

const phasesOf = (commands: readonly ScheduleCommand[]) =>
  commands.filter((c): c is PhaseCommand => c.type === 'phase');
const appliesOf = (commands: readonly ScheduleCommand[]) =>
  commands.filter((c) => c.type === 'apply');

function syncSchedule(lateUpdates: 'reject' | 'next-round' = 'reject', at = 0) {
  return createSchedule({ kind: 'sync', staleness, deadline, lateUpdates }, at);
}

describe('synchronous rounds (K = N)', () => {
  it('a round where every worker reports is applied once, with each worker once', () => {
    const { perEvent } = trace(syncSchedule(), [
      join('a'),
      join('b'),
      join('c'),
      update('a', 1, 0, 100, 400),
      update('b', 1, 0, 200, 500),
      update('c', 1, 0, 300, 600),
      // the next round opened at 300 with samples [400, 500, 600]:
      // q0.9 = 500 + 0.8 * 100 = 580, deadline 300 + clamp(1000, 60000, 2 * 580) = 1460
      update('a', 2, 1, 400),
    ]);
    expect(perEvent).toEqual([
      [phase('sync', 1, 1)],
      [phase('sync', 2, 2)],
      [phase('sync', 3, 3)],
      // no sample yet when the first batch opened: deadline = 0 + maxMs
      [buffered('a', 1), wakeAt(60_000)],
      [buffered('b', 1)],
      [apply(1, ['a', 1, 0], ['b', 1, 0], ['c', 1, 0])],
      [buffered('a', 2), wakeAt(1460)],
    ]);
  });

  it('closes a round at its deadline and drops the straggler', () => {
    const { state, perEvent } = trace(syncSchedule('reject'), [
      join('a'),
      join('b'),
      update('a', 1, 0, 100, 400),
      tick(59_999),
      tick(60_000),
      update('b', 1, 0, 60_500),
    ]);
    expect(perEvent.slice(2)).toEqual([
      [buffered('a', 1), wakeAt(60_000)],
      [],
      [apply(1, ['a', 1, 0])],
      [reject('b', 1, 'late')],
    ]);
    expect(state.rejected.late).toBe(1);
  });

  it('an update arriving exactly at the deadline finds the round already closed', () => {
    const { perEvent } = trace(syncSchedule('reject'), [
      join('a'),
      join('b'),
      update('a', 1, 0, 100),
      update('b', 1, 0, 60_000),
    ]);
    expect(perEvent[3]).toEqual([apply(1, ['a', 1, 0]), reject('b', 1, 'late')]);
  });

  it("lateUpdates 'next-round' buffers a late update with its staleness", () => {
    const { perEvent } = trace(syncSchedule('next-round'), [
      join('a'),
      join('b'),
      update('a', 1, 0, 100, 400),
      tick(60_000),
      // round 2 opened at 60000 with samples [400]: 2 * 400 = 800 -> clamp 1000 -> 61000
      update('b', 1, 0, 60_500, 700),
      update('a', 2, 1, 60_600),
    ]);
    expect(perEvent.slice(3)).toEqual([
      [apply(1, ['a', 1, 0])],
      [buffered('b', 1), wakeAt(61_000)],
      [apply(2, ['b', 1, 1], ['a', 2, 0])],
    ]);
  });

  it("a second update from a worker already waiting in the batch is rejected as 'late'", () => {
    const { perEvent } = trace(syncSchedule('next-round'), [
      join('a'),
      join('b'),
      update('a', 1, 0, 100),
      update('a', 2, 0, 150),
      update('b', 1, 0, 200),
      update('a', 2, 1, 300),
    ]);
    expect(perEvent.slice(3)).toEqual([
      [reject('a', 2, 'late')],
      [apply(1, ['a', 1, 0], ['b', 1, 0])],
      // seq 2 was decided (rejected) already: replaying it is a duplicate, never applied
      [reject('a', 2, 'duplicate')],
    ]);
  });

  it('a worker leaving mid-round completes the round of the remaining workers', () => {
    const { perEvent } = trace(syncSchedule(), [
      join('a'),
      join('b'),
      join('c'),
      update('a', 1, 0, 100),
      update('b', 1, 0, 200),
      leave('c', 300),
    ]);
    expect(perEvent[5]).toEqual([apply(1, ['a', 1, 0], ['b', 1, 0]), phase('sync', 2, 2)]);
  });

  it("a leaver's delivered update is still applied, but the round waits for the others", () => {
    const { perEvent } = trace(syncSchedule(), [
      join('a'),
      join('b'),
      join('c'),
      update('a', 1, 0, 100),
      leave('a', 150),
      update('b', 1, 0, 200),
      update('c', 1, 0, 300),
      // a rejoins and replays its applied update: the seq memory survived the leave
      join('a', 400),
      update('a', 1, 0, 500),
    ]);
    expect(perEvent.slice(4)).toEqual([
      [phase('sync', 2, 2)],
      [buffered('b', 1)],
      [apply(1, ['a', 1, 0], ['b', 1, 0], ['c', 1, 0])],
      [phase('sync', 3, 3)],
      [reject('a', 1, 'duplicate')],
    ]);
  });

  it("a round kept open after K fell to 1 still turns late updates away under 'reject'", () => {
    const events = [
      join('a'),
      join('c'),
      update('a', 1, 0, 100),
      update('c', 1, 0, 200),
      update('c', 2, 1, 300),
      leave('c', 400),
      // computed on version 0, whose round closed: it must not be averaged into c's round
      update('a', 2, 0, 500),
      update('a', 3, 1, 600),
    ];
    expect(trace(syncSchedule('reject'), events).perEvent.slice(5)).toEqual([
      [phase('sync', 1, 1)],
      [reject('a', 2, 'late')],
      [apply(2, ['c', 2, 0], ['a', 3, 0])],
    ]);
    // 'next-round' buffers it into that round with its staleness, as under K > 1; the next
    // update meets an empty batch at K = 1 and is applied at once, stale or not
    expect(trace(syncSchedule('next-round'), events).perEvent.slice(6)).toEqual([
      [apply(2, ['c', 2, 0], ['a', 2, 1])],
      [apply(3, ['a', 3, 1])],
    ]);
  });

  it('when every worker leaves, the buffered updates are applied at the deadline', () => {
    const { perEvent } = trace(syncSchedule(), [
      join('a'),
      join('b'),
      update('a', 1, 0, 100),
      leave('a', 200),
      leave('b', 300),
      tick(60_000),
    ]);
    expect(perEvent.slice(3)).toEqual([
      [phase('sync', 1, 1)],
      [phase('sync', 1, 0)],
      [apply(1, ['a', 1, 0])],
    ]);
  });

  it('a worker joining mid-round is waited for (K follows N)', () => {
    const { state, perEvent } = trace(syncSchedule(), [
      join('a'),
      join('b'),
      update('a', 1, 0, 100),
      join('c', 150),
      update('b', 1, 0, 200),
      update('c', 1, 0, 300),
    ]);
    expect(perEvent.slice(3)).toEqual([
      [phase('sync', 3, 3)],
      [buffered('b', 1)],
      [apply(1, ['a', 1, 0], ['b', 1, 0], ['c', 1, 0])],
    ]);
    expect(state.batch.entries).toHaveLength(0);
  });
});

describe('asynchronous (K = 1) and the update verdicts', () => {
  const asyncSchedule = () => createSchedule({ kind: 'async', staleness: { maxStaleness: 2 } }, 0);

  it('applies on arrival and rejects stale, future, unknown and duplicate updates', () => {
    const { state, perEvent } = trace(asyncSchedule(), [
      join('a'),
      join('b'),
      update('a', 1, 0, 10),
      update('b', 1, 0, 20),
      update('a', 2, 1, 30),
      update('b', 2, 1, 40), // staleness 3 - 1 = 2 = maxStaleness: accepted
      update('b', 3, 0, 50), // staleness 4 - 0 = 4 > 2
      update('b', 4, 5, 60), // version 4 < 5
      update('c', 1, 0, 70),
      update('a', 2, 4, 80),
      update('a', 1, 4, 90),
    ]);
    expect(perEvent).toEqual([
      [phase('async', 1, 1)],
      [phase('async', 1, 2)],
      [apply(1, ['a', 1, 0])],
      [apply(2, ['b', 1, 1])],
      [apply(3, ['a', 2, 1])],
      [apply(4, ['b', 2, 2])],
      [reject('b', 3, 'stale')],
      [reject('b', 4, 'future-version')],
      [reject('c', 1, 'unknown-worker')],
      [reject('a', 2, 'duplicate')],
      [reject('a', 1, 'duplicate')],
    ]);
    expect(state.rejected).toEqual({
      stale: 1,
      duplicate: 2,
      'unknown-worker': 1,
      'future-version': 1,
      late: 0,
    });
    expect(state.version).toBe(4);
  });

  it('a worker that left is unknown until it rejoins', () => {
    const { perEvent } = trace(asyncSchedule(), [
      join('a'),
      leave('a', 1),
      update('a', 1, 0, 2),
      join('a', 3),
      update('a', 2, 0, 4),
    ]);
    expect(perEvent.slice(2)).toEqual([
      [reject('a', 1, 'unknown-worker')],
      [phase('async', 1, 1)],
      [apply(1, ['a', 2, 0])],
    ]);
  });

  it('treats ids like __proto__ and constructor as ordinary workers', () => {
    const { perEvent } = trace(asyncSchedule(), [
      join('__proto__'),
      join('constructor'),
      update('__proto__', 1, 0, 1),
      update('constructor', 1, 1, 2),
      update('toString', 1, 2, 3),
      update('__proto__', 1, 2, 4),
    ]);
    expect(perEvent.slice(2)).toEqual([
      [apply(1, ['__proto__', 1, 0])],
      [apply(2, ['constructor', 1, 0])],
      [reject('toString', 1, 'unknown-worker')],
      [reject('__proto__', 1, 'duplicate')],
    ]);
  });

  it('hybrid at s = 0 issues exactly the commands of async', () => {
    const events = [
      join('a'),
      join('b'),
      update('a', 1, 0, 0),
      update('b', 1, 0, 0),
      update('b', 2, 0, 0),
      update('a', 1, 1, 0),
      update('c', 1, 0, 0),
      leave('a', 0),
      update('b', 3, 3, 0),
    ];
    const hybrid = createSchedule(
      {
        kind: 'hybrid',
        staleness: { maxStaleness: 2 },
        deadline,
        lateUpdates: 'reject',
        threshold: { shape: 'linear', clock: 'time', horizon: 1000 },
      },
      0,
    );
    const expected = stepAll(asyncSchedule(), events).commands;
    // a1 -> v1, b1 -> v2, b2 (staleness 2) -> v3, a1 replayed, c unknown, b3 -> v4
    expect(appliesOf(expected)).toHaveLength(4);
    expect(stepAll(hybrid, events).commands).toEqual(expected);
  });
});

describe('hybrid (Smooth Switch): K(s) grows from 1 to N', () => {
  it('update clock, linear horizon 4, N = 2: async until K(3) = ceil(2 * 3 / 4) = 2', () => {
    const schedule = createSchedule(
      {
        kind: 'hybrid',
        staleness,
        deadline,
        lateUpdates: 'next-round',
        threshold: { shape: 'linear', clock: 'updates', horizon: 4 },
      },
      0,
    );
    const { perEvent } = trace(schedule, [
      join('a'),
      join('b'),
      update('a', 1, 0, 10), // s=1: K = ceil(0.5) = 1
      update('b', 1, 0, 20), // s=2: K = ceil(1) = 1
      update('a', 2, 2, 30), // s=3: K = ceil(1.5) = 2 -> synchronous
      update('b', 2, 1, 40), // late (base 1 < 3) but next-round: buffered with staleness 2
      update('a', 3, 3, 50),
    ]);
    expect(perEvent).toEqual([
      [phase('async', 1, 1)],
      [phase('async', 1, 2)],
      [apply(1, ['a', 1, 0])],
      [apply(2, ['b', 1, 1])],
      [apply(3, ['a', 2, 0]), phase('sync', 2, 2)],
      // the batch opened at 30 with samples [100, 100, 100]: 30 + clamp(1000, .., 200) = 1030
      [buffered('b', 2), wakeAt(1030)],
      [apply(4, ['b', 2, 2], ['a', 3, 0])],
    ]);
  });

  it('time clock, linear horizon 1000 ms, N = 4: K(500) = 2 is announced on a tick', () => {
    const schedule = createSchedule(
      {
        kind: 'hybrid',
        staleness,
        deadline,
        lateUpdates: 'reject',
        threshold: { shape: 'linear', clock: 'time', horizon: 1000 },
      },
      1_000_000,
    );
    const at = 1_000_000;
    const { state, perEvent } = trace(schedule, [
      join('a', at),
      join('b', at),
      join('c', at),
      join('d', at),
      tick(at + 500),
      update('a', 1, 0, at + 600), // K(600) = ceil(2.4) = 3: buffered
      update('b', 1, 0, at + 700), // K(700) = ceil(2.8) = 3
      update('c', 1, 0, at + 800), // K(800) = ceil(3.2) = 4
      update('d', 1, 0, at + 900),
    ]);
    expect(perEvent.slice(4)).toEqual([
      [phase('hybrid', 2, 4)],
      // the phase in force when the update is judged comes first
      [phase('hybrid', 3, 4), buffered('a', 1), wakeAt(at + 60_000)],
      [buffered('b', 1)],
      [phase('sync', 4, 4), buffered('c', 1)],
      [apply(1, ['a', 1, 0], ['b', 1, 0], ['c', 1, 0], ['d', 1, 0])],
    ]);
    expect(currentPhase(state)).toEqual(phase('sync', 4, 4));
  });

  it('plateau (ours): K doubles after `patience` evaluations without improvement', () => {
    const schedule = createSchedule(
      {
        kind: 'hybrid',
        staleness,
        deadline,
        lateUpdates: 'reject',
        threshold: { shape: 'plateau', patience: 2, minDelta: 0.01 },
      },
      0,
    );
    const { perEvent } = trace(schedule, [
      join('a'),
      join('b'),
      join('c'),
      join('d'),
      evaluated(1.0, 1), // best 1.0
      evaluated(0.995, 2), // not below 1.0 - 0.01: 1 without improvement
      evaluated(0.99, 3), // 0.99 < 0.99 is false: 2 -> K = 2
      evaluated(0.5, 4), // improves: best 0.5
      evaluated(0.495, 5), // 1
      evaluated(0.6, 6), // 2 -> K = 4 = N: synchronous
      join('e', 7), // K follows N once synchronous
    ]);
    expect(perEvent.slice(4).flat()).toEqual([
      phase('hybrid', 2, 4),
      phase('sync', 4, 4),
      phase('sync', 5, 5),
    ]);
    expect(perEvent[6]).toEqual([phase('hybrid', 2, 4)]);
  });
});

describe('cyclic: S synchronous rounds, then A asynchronous updates', () => {
  it('S = 2, A = 3 with 2 workers: the exact sequence of phases and applies', () => {
    const schedule = createSchedule(
      {
        kind: 'cyclic',
        staleness,
        deadline,
        lateUpdates: 'next-round',
        syncRounds: 2,
        asyncUpdates: 3,
      },
      0,
    );
    const { perEvent } = trace(schedule, [
      join('a'),
      join('b'),
      update('a', 1, 0, 10), // sync round 1
      update('b', 1, 0, 20),
      update('a', 2, 1, 30), // sync round 2
      update('b', 2, 1, 40),
      update('a', 3, 2, 50), // async update 1
      update('b', 3, 2, 60), // async update 2 (staleness 1)
      update('a', 4, 3, 70), // async update 3 (staleness 1)
      update('b', 4, 4, 80), // sync round 1 of cycle 2: b is late by one, buffered
      update('a', 5, 5, 90),
      update('b', 5, 6, 100), // sync round 2 of cycle 2
      update('a', 6, 6, 110),
      update('a', 7, 7, 120), // async again
    ]);
    expect(perEvent).toEqual([
      [phase('sync', 1, 1)],
      [phase('sync', 2, 2)],
      [buffered('a', 1), wakeAt(60_000)],
      [apply(1, ['a', 1, 0], ['b', 1, 0])],
      // batch opened at 20 with samples [100, 100]: 20 + clamp(1000, .., 200) = 1020
      [buffered('a', 2), wakeAt(1020)],
      [apply(2, ['a', 2, 0], ['b', 2, 0]), phase('async', 1, 2)],
      [apply(3, ['a', 3, 0])],
      [apply(4, ['b', 3, 1])],
      [apply(5, ['a', 4, 1]), phase('sync', 2, 2)],
      [buffered('b', 4), wakeAt(1070)],
      [apply(6, ['b', 4, 1], ['a', 5, 0])],
      [buffered('b', 5), wakeAt(1090)],
      [apply(7, ['b', 5, 0], ['a', 6, 0]), phase('async', 1, 2)],
      [apply(8, ['a', 7, 0])],
    ]);
  });

  it('syncRounds = 0 is plain async and asyncUpdates = 0 plain sync', () => {
    const base = { kind: 'cyclic', staleness, deadline, lateUpdates: 'reject' } as const;
    const events = [join('a'), join('b'), update('a', 1, 0, 10), update('b', 1, 0, 20)];
    const asyncOnly = stepAll(
      createSchedule({ ...base, syncRounds: 0, asyncUpdates: 3 }, 0),
      events,
    );
    expect(appliesOf(asyncOnly.commands)).toHaveLength(2);
    const syncOnly = stepAll(
      createSchedule({ ...base, syncRounds: 3, asyncUpdates: 0 }, 0),
      events,
    );
    expect(appliesOf(syncOnly.commands)).toEqual([apply(1, ['a', 1, 0], ['b', 1, 0])]);
    expect(phasesOf(syncOnly.commands).every((p) => p.phase === 'sync')).toBe(true);
  });
});

describe('local SGD (LUPA-SGD): rounds at K = N that carry H', () => {
  const localSchedule = (period: Extract<ScheduleConfig, { kind: 'local-sgd' }>['period']) =>
    createSchedule({ kind: 'local-sgd', staleness, deadline, period }, 0);

  it('announces H with every phase and keeps a fixed H', () => {
    const { perEvent } = trace(localSchedule({ rule: 'fixed', steps: 5 }), [
      join('a'),
      join('b'),
      update('a', 1, 0, 10),
      update('b', 1, 0, 20),
    ]);
    expect(perEvent).toEqual([
      [phase('sync', 1, 1, 5)],
      [phase('sync', 2, 2, 5)],
      [buffered('a', 1), wakeAt(60_000)],
      [apply(1, ['a', 1, 0], ['b', 1, 0])],
    ]);
  });

  it('lupa-linear grows H per round and the deadline scales with H', () => {
    const { perEvent } = trace(localSchedule({ rule: 'lupa-linear', initialSteps: 10, alpha: 1 }), [
      join('a'),
      join('b'),
      update('a', 1, 0, 500, 1000), // 10 local steps took 1000 ms
      update('b', 1, 0, 1000, 1000),
      // round 1: H = ceil((1 + 1) * 10) = 20; samples at tau_0 = 10 steps: [1000, 1000];
      // deadline 1000 + (20 / 10) * clamp(1000, 60000, 2 * 1000) = 1000 + 4000 = 5000
      update('a', 2, 1, 3000, 2000), // 20 steps in 2000 ms = 1000 ms per 10 steps
      update('b', 2, 1, 3500, 2000),
      // round 2: H = 30, deadline 3500 + 3 * 2000 = 9500
      update('a', 3, 2, 4000, 3000),
    ]);
    expect(perEvent.slice(2)).toEqual([
      [buffered('a', 1), wakeAt(60_000)],
      [apply(1, ['a', 1, 0], ['b', 1, 0]), phase('sync', 2, 2, 20)],
      [buffered('a', 2), wakeAt(5000)],
      [apply(2, ['a', 2, 0], ['b', 2, 0]), phase('sync', 2, 2, 30)],
      [buffered('a', 3), wakeAt(9500)],
    ]);
  });

  it('lupa-adaptive: H for the next round from the latest loss, capped', () => {
    const { perEvent } = trace(
      localSchedule({ rule: 'lupa-adaptive', initialSteps: 4, maxSteps: 12 }),
      [
        join('a'),
        evaluated(2.0, 1), // F(x_0) = 2.0
        update('a', 1, 0, 10), // round 1: ratio 1 -> H = 4, unchanged
        evaluated(0.25, 20), // ratio 8 -> cube root 2; H changes only when the next round opens
        update('a', 2, 1, 30), // round 2: H = 2 * 4 = 8
        evaluated(0.002, 40), // ratio 1000 -> 10 * 4 = 40, capped at 12
        update('a', 3, 2, 50),
      ],
    );
    expect(perEvent).toEqual([
      [phase('sync', 1, 1, 4)],
      [],
      [apply(1, ['a', 1, 0])],
      [],
      [apply(2, ['a', 2, 0]), phase('sync', 1, 1, 8)],
      [],
      [apply(3, ['a', 3, 0]), phase('sync', 1, 1, 12)],
    ]);
  });

  it('always rejects a delta from a closed round', () => {
    const { perEvent } = trace(localSchedule({ rule: 'fixed', steps: 5 }), [
      join('a'),
      join('b'),
      update('a', 1, 0, 10),
      tick(60_000),
      update('b', 1, 0, 60_001),
    ]);
    expect(perEvent.slice(3)).toEqual([[apply(1, ['a', 1, 0])], [reject('b', 1, 'late')]]);
  });
});

describe('state is plain data', () => {
  it('a JSON round trip of the state gives the same next step', () => {
    const events = [join('a'), join('b'), update('a', 1, 0, 10), evaluated(1, 20)];
    const { state } = stepAll(syncSchedule('next-round'), events);
    const restored = JSON.parse(JSON.stringify(state)) as ScheduleState;
    const next = update('b', 1, 0, 30);
    expect(step(restored, next)).toEqual(step(state, next));
  });

  it('step leaves its input state untouched', () => {
    const { state } = stepAll(syncSchedule(), [join('a'), join('b'), update('a', 1, 0, 10)]);
    const before = JSON.stringify(state);
    step(state, update('b', 1, 0, 20));
    expect(JSON.stringify(state)).toBe(before);
  });
});

describe('bad input', () => {
  it('rejects out-of-range configs', () => {
    const bad: ScheduleConfig[] = [
      { kind: 'sync', staleness, deadline: { ...deadline, slack: 0.5 }, lateUpdates: 'reject' },
      {
        kind: 'sync',
        staleness,
        deadline: { ...deadline, minMs: 5, maxMs: 4 },
        lateUpdates: 'reject',
      },
      { kind: 'async', staleness: { maxStaleness: -1 } },
      {
        kind: 'hybrid',
        staleness,
        deadline,
        lateUpdates: 'reject',
        threshold: { shape: 'linear', clock: 'time', horizon: 0 },
      },
      {
        kind: 'cyclic',
        staleness,
        deadline,
        lateUpdates: 'reject',
        syncRounds: 0,
        asyncUpdates: 0,
      },
      {
        kind: 'local-sgd',
        staleness,
        deadline,
        period: { rule: 'lupa-adaptive', initialSteps: 10, maxSteps: 5 },
      },
    ];
    for (const config of bad)
      expect(thrownCode(() => createSchedule(config, 0))).toBe('invalid-config');
    // configs may arrive as untyped JSON: a missing section is a typed error, not a TypeError
    const missingDeadline = { kind: 'sync', staleness, lateUpdates: 'reject' } as unknown;
    expect(thrownCode(() => createSchedule(missingDeadline as ScheduleConfig, 0))).toBe(
      'invalid-config',
    );
  });

  it('rejects malformed events and time going backwards', () => {
    const state = stepAll(syncSchedule(), [join('a', 100)]).state;
    expect(thrownCode(() => step(state, tick(99)))).toBe('time-went-backwards');
    expect(thrownCode(() => step(state, update('a', -1, 0, 100)))).toBe('invalid-event');
    expect(thrownCode(() => step(state, update('a', 1, 0.5, 100)))).toBe('invalid-event');
    expect(thrownCode(() => step(state, update('a', 1, 0, 100, Number.NaN)))).toBe('invalid-event');
    expect(thrownCode(() => step(state, join('', 100)))).toBe('invalid-event');
    expect(thrownCode(() => step(state, tick(Number.NaN)))).toBe('invalid-event');
    expect(thrownCode(() => step(state, evaluated(Number.POSITIVE_INFINITY, 100)))).toBe(
      'invalid-event',
    );
    const unknown = { type: 'restart', at: 100 } as unknown as ScheduleEvent;
    expect(thrownCode(() => step(state, unknown))).toBe('invalid-event');
  });

  it('rejects a non-positive loss under the LUPA adaptive rule', () => {
    const state = createSchedule(
      {
        kind: 'local-sgd',
        staleness,
        deadline,
        period: { rule: 'lupa-adaptive', initialSteps: 4, maxSteps: 8 },
      },
      0,
    );
    expect(thrownCode(() => step(state, evaluated(0, 1)))).toBe('invalid-event');
  });
});
