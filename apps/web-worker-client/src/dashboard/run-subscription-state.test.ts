import { describe, expect, it } from 'vitest';
import {
  currentVersion,
  initialSubscriptionState,
  subscriptionReducer,
} from './run-subscription-state.js';
import { point, run, worker } from './test-support/fixtures.js';

const subscribed = subscriptionReducer(initialSubscriptionState('run-1'), {
  type: 'subscribed',
  run: run({ version: 10 }),
  metrics: [point({ at: 1, version: 5 }), point({ at: 2, version: 10 })],
  workers: [worker()],
});

describe('subscriptionReducer', () => {
  it('takes the run, its series and workers from the subscription answer', () => {
    expect(subscribed.run?.version).toBe(10);
    expect(subscribed.metrics).toHaveLength(2);
    expect(subscribed.workers).toHaveLength(1);
  });

  it('keeps the worker table unknown when the answer has none (no researcher token)', () => {
    const viewer = subscriptionReducer(initialSubscriptionState('run-1'), {
      type: 'subscribed',
      run: run({ version: 10, activeWorkers: 3 }),
      metrics: [],
    });
    expect(viewer.workers).toBeUndefined();
    expect(viewer.run?.activeWorkers).toBe(3);
    // A researcher's resubscription after an anonymous one brings the rows.
    const researcher = subscriptionReducer(viewer, {
      type: 'subscribed',
      run: run({ version: 10 }),
      metrics: [],
      workers: [worker()],
    });
    expect(researcher.workers).toHaveLength(1);
  });

  it('replaces the series on a resubscription instead of merging', () => {
    const again = subscriptionReducer(subscribed, {
      type: 'subscribed',
      run: run({ version: 12 }),
      metrics: [point({ at: 3, version: 12 })],
      workers: [],
    });
    expect(again.metrics.map((p) => p.at)).toEqual([3]);
  });

  it('appends newer metrics, ignores repeats and other runs, and moves the version', () => {
    let state = subscriptionReducer(subscribed, {
      type: 'metrics',
      point: point({ at: 2, version: 10 }),
    });
    expect(state).toBe(subscribed);
    state = subscriptionReducer(state, {
      type: 'metrics',
      point: point({ runId: 'other', at: 9, version: 99 }),
    });
    expect(state).toBe(subscribed);
    state = subscriptionReducer(state, { type: 'metrics', point: point({ at: 3, version: 20 }) });
    expect(state.metrics).toHaveLength(3);
    expect(state.run?.version).toBe(20);
    expect(currentVersion(state)).toBe(20);
  });

  it('applies workers and run-status notices of its own run only', () => {
    let state = subscriptionReducer(subscribed, { type: 'workers', runId: 'other', workers: [] });
    expect(state.workers).toHaveLength(1);
    expect(initialSubscriptionState('run-1').workers).toBeUndefined();
    state = subscriptionReducer(state, { type: 'workers', runId: 'run-1', workers: [] });
    expect(state.workers).toHaveLength(0);
    state = subscriptionReducer(state, {
      type: 'run-status',
      run: run({ status: 'stopped', version: 30 }),
    });
    expect(state.run?.status).toBe('stopped');
    expect(currentVersion(state)).toBe(30);
  });

  it('keeps run events (rollbacks) of its own run, oldest first', () => {
    const event = {
      type: 'run-event' as const,
      runId: 'run-1',
      at: 5,
      kind: 'rollback' as const,
      version: 21,
      foundAtVersion: 20,
      checkpointVersion: 10,
      message: 'non-finite weights; rolled back to the checkpoint of version 10',
    };
    let state = subscriptionReducer(subscribed, {
      type: 'run-event',
      event: { ...event, runId: 'other' },
    });
    expect(state.events).toEqual([]);
    state = subscriptionReducer(state, { type: 'run-event', event });
    state = subscriptionReducer(state, { type: 'run-event', event: { ...event, at: 6 } });
    expect(state.events.map((e) => e.at)).toEqual([5, 6]);
  });

  it('keeps a failure to show', () => {
    const state = subscriptionReducer(initialSubscriptionState('run-1'), {
      type: 'failed',
      message: 'no run run-1 (not-found)',
    });
    expect(state.error).toBe('no run run-1 (not-found)');
    expect(currentVersion(state)).toBeUndefined();
  });
});
