import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoundDeadline, ScheduleConfig, ThresholdConfig } from './config.js';
import type { ScheduleCommand, ScheduleEvent } from './events.js';
import { createSchedule, currentPhase, type ScheduleState } from './state.js';
import { step, stepAll } from './step.js';

// Random event sequences against the invariants of the batching model. Ids include
// '__proto__' and 'constructor' because worker ids come off the network.
const WORKER_IDS = ['a', 'b', 'c', 'd', '__proto__', 'constructor'] as const;

const deadlineArb: fc.Arbitrary<RoundDeadline> = fc.record({
  slack: fc.double({ min: 1, max: 3, noNaN: true }),
  quantile: fc.double({ min: 0, max: 1, noNaN: true }),
  window: fc.integer({ min: 1, max: 5 }),
  minMs: fc.integer({ min: 50, max: 1000 }),
  maxMs: fc.integer({ min: 1000, max: 8000 }),
});
const stalenessArb = fc.record({ maxStaleness: fc.integer({ min: 0, max: 6 }) });
const lateArb = fc.constantFrom('reject' as const, 'next-round' as const);
const clockArb = fc.constantFrom('time' as const, 'updates' as const);
const horizonArb = fc.integer({ min: 1, max: 20_000 });

const thresholdArb: fc.Arbitrary<ThresholdConfig> = fc.oneof(
  fc.record({ shape: fc.constant('linear' as const), clock: clockArb, horizon: horizonArb }),
  fc.record({ shape: fc.constant('exponential' as const), clock: clockArb, horizon: horizonArb }),
  fc.record({
    shape: fc.constant('step' as const),
    clock: clockArb,
    horizon: horizonArb,
    steps: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    shape: fc.constant('plateau' as const),
    patience: fc.integer({ min: 1, max: 3 }),
    minDelta: fc.double({ min: 0, max: 0.1, noNaN: true }),
  }),
);

const configArb: fc.Arbitrary<ScheduleConfig> = fc.oneof(
  fc.record({ kind: fc.constant('async' as const), staleness: stalenessArb }),
  fc.record({
    kind: fc.constant('sync' as const),
    staleness: stalenessArb,
    deadline: deadlineArb,
    lateUpdates: lateArb,
  }),
  fc.record({
    kind: fc.constant('hybrid' as const),
    staleness: stalenessArb,
    deadline: deadlineArb,
    lateUpdates: lateArb,
    threshold: thresholdArb,
  }),
  fc
    .record({
      kind: fc.constant('cyclic' as const),
      staleness: stalenessArb,
      deadline: deadlineArb,
      lateUpdates: lateArb,
      syncRounds: fc.integer({ min: 0, max: 3 }),
      asyncUpdates: fc.integer({ min: 0, max: 3 }),
    })
    .filter((c) => c.syncRounds + c.asyncUpdates > 0),
  fc.record({
    kind: fc.constant('local-sgd' as const),
    staleness: stalenessArb,
    deadline: deadlineArb,
    period: fc.oneof(
      fc.record({ rule: fc.constant('fixed' as const), steps: fc.integer({ min: 1, max: 20 }) }),
      fc
        .record({
          rule: fc.constant('lupa-adaptive' as const),
          initialSteps: fc.integer({ min: 1, max: 10 }),
          extra: fc.integer({ min: 0, max: 30 }),
        })
        .map(({ rule, initialSteps, extra }) => ({
          rule,
          initialSteps,
          maxSteps: initialSteps + extra,
        })),
      fc.record({
        rule: fc.constant('lupa-linear' as const),
        initialSteps: fc.integer({ min: 1, max: 10 }),
        alpha: fc.double({ min: 0, max: 2, noNaN: true }),
      }),
    ),
  }),
);

type Action =
  | { kind: 'join' | 'leave'; worker: number; dt: number }
  | {
      kind: 'update';
      worker: number;
      /** Send as any id, joined or not, instead of as one of the active workers. */
      stranger: boolean;
      dt: number;
      lag: number;
      seqMode: 'next' | 'replay' | 'skip';
      stepMs: number;
    }
  | { kind: 'tick'; dt: number; toDeadline: boolean }
  | { kind: 'evaluate'; dt: number; loss: number };

const dtArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 }));
const workerArb = fc.integer({ min: 0, max: WORKER_IDS.length - 1 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('join' as const), worker: workerArb, dt: dtArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('leave' as const), worker: workerArb, dt: dtArb }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      worker: workerArb,
      stranger: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
      dt: dtArb,
      // baseVersion = version - lag: mostly on time, sometimes stale, sometimes from the future
      lag: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -1, max: 8 })),
      seqMode: fc.constantFrom(
        'next' as const,
        'next' as const,
        'replay' as const,
        'skip' as const,
      ),
      stepMs: fc.integer({ min: 0, max: 5000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      dt: dtArb,
      toDeadline: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('evaluate' as const),
      dt: dtArb,
      loss: fc.double({ min: 0.001, max: 5, noNaN: true }),
    }),
  },
);
// Start with a few workers so that most updates meet a non-empty schedule.
const actionsArb = fc
  .tuple(
    fc.uniqueArray(workerArb, { minLength: 1, maxLength: 4 }),
    fc.array(actionArb, { minLength: 5, maxLength: 80 }),
  )
  .map(([first, rest]) => [
    ...first.map((worker): Action => ({ kind: 'join', worker, dt: 0 })),
    ...rest,
  ]);

/** Turns abstract actions into concrete events, reading versions and deadlines off the run. */
class EventMaker {
  private now = 0;
  private readonly lastSeq = new Map<string, number>();
  private wakeAt: number | null = null;

  next(action: Action, state: ScheduleState): ScheduleEvent {
    this.now += action.dt;
    const at = this.now;
    switch (action.kind) {
      case 'join':
        return { type: 'worker-joined', workerId: WORKER_IDS[action.worker], at };
      case 'leave':
        return { type: 'worker-left', workerId: WORKER_IDS[action.worker], at };
      case 'tick':
        if (action.toDeadline && this.wakeAt !== null && this.wakeAt > at) this.now = this.wakeAt;
        return { type: 'tick', at: this.now };
      case 'evaluate':
        return { type: 'evaluated', loss: action.loss, at };
      case 'update': {
        const members = Object.keys(state.workers);
        const workerId =
          action.stranger || members.length === 0
            ? WORKER_IDS[action.worker]
            : members[action.worker % members.length];
        const last = this.lastSeq.get(workerId) ?? 0;
        const seq = action.seqMode === 'replay' ? last : last + (action.seqMode === 'skip' ? 3 : 1);
        this.lastSeq.set(workerId, Math.max(last, seq));
        const baseVersion = Math.max(0, state.version - action.lag);
        return { type: 'update-arrived', workerId, seq, baseVersion, stepMs: action.stepMs, at };
      }
    }
  }

  saw(commands: readonly ScheduleCommand[]): void {
    for (const c of commands) if (c.type === 'wake-at') this.wakeAt = c.at;
  }
}

const keyOf = (workerId: string, seq: number) => JSON.stringify([workerId, seq]);

/** Steps a random run and checks every invariant after every event; returns the event log. */
function checkRun(config: ScheduleConfig, actions: readonly Action[]): ScheduleEvent[] {
  let state = createSchedule(config, 0);
  const maker = new EventMaker();
  const events: ScheduleEvent[] = [];
  const active = new Set<string>();
  const applied = new Set<string>();
  const pending = new Map<string, number>(); // buffered key -> deadline promised by wake-at
  let rejects = 0;
  let batchDeadline: number | null = null;

  const drive = (event: ScheduleEvent) => {
    events.push(event);
    const before = JSON.stringify(state);
    const result = step(state, event);
    // pure, and the state survives a JSON round trip unchanged in meaning
    expect(JSON.stringify(state)).toBe(before);
    expect(step(JSON.parse(before) as ScheduleState, event)).toEqual(result);
    const { commands } = result;
    maker.saw(commands);

    if (event.type === 'worker-joined') active.add(event.workerId);
    if (event.type === 'worker-left') active.delete(event.workerId);
    const own = event.type === 'update-arrived' ? keyOf(event.workerId, event.seq) : null;
    const pendingBefore = new Set(pending.keys());
    let verdicts = 0;
    commands.forEach((command, i) => {
      switch (command.type) {
        case 'apply': {
          expect(command.version).toBe(state.version + 1);
          const workers = command.updates.map((u) => u.workerId);
          expect(new Set(workers).size).toBe(workers.length);
          expect(workers.length).toBeGreaterThan(0);
          for (const u of command.updates) {
            const key = keyOf(u.workerId, u.seq);
            expect(applied.has(key), `applied twice: ${key}`).toBe(false);
            applied.add(key);
            expect(pendingBefore.has(key) || key === own, `never accepted: ${key}`).toBe(true);
            if (key === own && !pendingBefore.has(key)) verdicts += 1;
            pending.delete(key);
            expect(u.staleness).toBeGreaterThanOrEqual(0);
            expect(u.staleness).toBeLessThanOrEqual(config.staleness.maxStaleness);
            if (config.kind === 'local-sgd') expect(u.staleness).toBe(0);
          }
          const roundsOnly = config.kind === 'sync' || config.kind === 'local-sgd';
          if (roundsOnly && (batchDeadline === null || event.at < batchDeadline)) {
            // before its deadline a round closes only once every active worker has reported
            for (const w of active) expect(workers, `round closed without ${w}`).toContain(w);
          }
          const lateRejected = 'lateUpdates' in config && config.lateUpdates === 'reject';
          if (lateRejected && command.updates.length > 1) {
            // a K > 1 batch that turns late updates away holds only on-time ones
            for (const u of command.updates) expect(u.staleness).toBe(0);
          }
          state = { ...state, version: command.version };
          batchDeadline = null;
          break;
        }
        case 'buffered': {
          expect(config.kind).not.toBe('async');
          const key = keyOf(command.workerId, command.seq);
          expect(key).toBe(own);
          verdicts += 1;
          if (batchDeadline === null) {
            // the first update of a batch comes with the deadline the coordinator must tick at
            const next = commands[i + 1];
            expect(next.type).toBe('wake-at');
            if (next.type === 'wake-at') batchDeadline = next.at;
          }
          pending.set(key, batchDeadline ?? Number.NaN);
          break;
        }
        case 'reject':
          expect(keyOf(command.workerId, command.seq)).toBe(own);
          verdicts += 1;
          rejects += 1;
          break;
        case 'wake-at':
          expect(command.at).toBeGreaterThan(event.at);
          break;
        case 'phase':
          expect(command.k).toBeGreaterThanOrEqual(1);
          expect(command.k).toBeLessThanOrEqual(Math.max(1, command.n));
          break;
      }
    });
    state = result.state;
    // every update gets exactly one verdict: rejected, buffered, or applied at once
    if (own !== null) expect(verdicts, `verdicts for ${own}`).toBe(1);
    // a batch never waits past its deadline
    for (const [key, deadline] of pending) {
      expect(deadline, `${key} still buffered at ${event.at}`).toBeGreaterThan(event.at);
    }
    expect(pending.size).toBe(state.batch.entries.length);
    // a batch that holds K updates from active workers has been applied (leavers never stall it)
    const waiting = state.batch.entries.filter((e) => active.has(e.workerId)).length;
    if (state.batch.entries.length > 0) expect(waiting).toBeLessThan(currentPhase(state).k);
    // without late updates in the batch, everything waiting was computed on the current version
    if (
      config.kind === 'local-sgd' ||
      ('lateUpdates' in config && config.lateUpdates === 'reject')
    ) {
      for (const e of state.batch.entries) expect(e.baseVersion).toBe(state.version);
    }
    expect(state.announced).toEqual(currentPhase(state));
    expect(currentPhase(state).n).toBe(active.size);
    expect(Object.values(state.rejected).reduce((a, b) => a + b, 0)).toBe(rejects);
  };

  for (const action of actions) drive(maker.next(action, state));
  // nothing buffered is ever lost: far past any deadline, everything was applied
  drive({ type: 'tick', at: state.now + 1e8 });
  expect(pending.size).toBe(0);
  return events;
}

describe('schedules over random event sequences', () => {
  it('apply each accepted update exactly once, never past a deadline, with consistent state', () => {
    fc.assert(
      fc.property(configArb, actionsArb, (config, actions) => {
        checkRun(config, actions);
      }),
      { numRuns: 300 },
    );
  });

  it('K = 1 hybrid issues exactly the commands of async on the same events', () => {
    const neverGrows = fc.constantFrom<ThresholdConfig>(
      { shape: 'linear', clock: 'updates', horizon: 1e9 },
      { shape: 'exponential', clock: 'time', horizon: 1e15 },
      { shape: 'step', clock: 'time', horizon: 1e12, steps: 4 },
    );
    fc.assert(
      fc.property(
        stalenessArb,
        deadlineArb,
        lateArb,
        neverGrows,
        actionsArb,
        (staleness, deadline, lateUpdates, threshold, actions) => {
          const asyncConfig: ScheduleConfig = { kind: 'async', staleness };
          const events = checkRun(asyncConfig, actions);
          const expected = stepAll(createSchedule(asyncConfig, 0), events).commands;
          const hybrid = createSchedule(
            { kind: 'hybrid', staleness, deadline, lateUpdates, threshold },
            0,
          );
          expect(stepAll(hybrid, events).commands).toEqual(expected);
        },
      ),
    );
  });

  it('a synchronous round where all N workers report on time is one apply with all N', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...WORKER_IDS], { minLength: 1 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 6, maxLength: 6 }),
        lateArb,
        (workers, gaps, lateUpdates) => {
          let state = createSchedule(
            {
              kind: 'sync',
              staleness: { maxStaleness: 0 },
              deadline: deadlineArbDefault,
              lateUpdates,
            },
            0,
          );
          state = stepAll(
            state,
            workers.map((workerId) => ({ type: 'worker-joined' as const, workerId, at: 0 })),
          ).state;
          let at = 0;
          const commands: ScheduleCommand[] = [];
          for (const [i, workerId] of workers.entries()) {
            at += gaps[i];
            const result = step(state, {
              type: 'update-arrived',
              workerId,
              seq: 1,
              baseVersion: 0,
              stepMs: 10,
              at,
            });
            state = result.state;
            commands.push(...result.commands);
            const applies = result.commands.filter((c) => c.type === 'apply');
            // applied exactly when the last worker reports, not before
            expect(applies).toHaveLength(i === workers.length - 1 ? 1 : 0);
          }
          const applies = commands.filter((c) => c.type === 'apply');
          expect(applies).toEqual([
            {
              type: 'apply',
              version: 1,
              updates: workers.map((workerId) => ({ workerId, seq: 1, staleness: 0 })),
            },
          ]);
        },
      ),
    );
  });
});

// Counterexamples fast-check once found, replayed through the same checker so they stay fixed.
describe('schedules over recorded counterexamples', () => {
  it("a stale update cannot join a round whose other workers left (K fell to 1, 'reject')", () => {
    // seed 2052280336: c's on-time update waits in the round, c leaves (N = K = 1), then a sends
    // an update computed on the closed round; it used to be accepted as if asynchronous and
    // applied together with c's, a multi-update batch with a late update under 'reject'.
    checkRun(
      {
        kind: 'sync',
        staleness: { maxStaleness: 1 },
        deadline: { slack: 1, quantile: 0, window: 1, minMs: 50, maxMs: 1000 },
        lateUpdates: 'reject',
      },
      [
        { kind: 'join', worker: 0, dt: 0 },
        { kind: 'join', worker: 2, dt: 0 },
        { kind: 'update', worker: 0, stranger: true, dt: 0, lag: 0, seqMode: 'next', stepMs: 0 },
        { kind: 'update', worker: 0, stranger: true, dt: 1000, lag: 0, seqMode: 'next', stepMs: 0 },
        { kind: 'update', worker: 3, stranger: false, dt: 0, lag: 0, seqMode: 'next', stepMs: 0 },
        { kind: 'leave', worker: 2, dt: 0 },
        { kind: 'join', worker: 0, dt: 0 },
        { kind: 'update', worker: 0, stranger: true, dt: 0, lag: 1, seqMode: 'next', stepMs: 0 },
        { kind: 'update', worker: 0, stranger: true, dt: 0, lag: 0, seqMode: 'next', stepMs: 0 },
        { kind: 'update', worker: 0, stranger: true, dt: 0, lag: 0, seqMode: 'next', stepMs: 0 },
        { kind: 'update', worker: 0, stranger: true, dt: 0, lag: 0, seqMode: 'next', stepMs: 0 },
      ],
    );
  });
});

// 6 gaps of at most 500 ms stay well inside the first round's deadline of maxMs = 60000.
const deadlineArbDefault: RoundDeadline = {
  slack: 2,
  quantile: 0.9,
  window: 20,
  minMs: 1000,
  maxMs: 60_000,
};
