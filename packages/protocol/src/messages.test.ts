import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dashboardNotices, dashboardRequests, workerNotices, workerRequests } from './events.js';
import {
  AssignmentSchema,
  BytesSchema,
  HelloSchema,
  UpdatePushSchema,
  WeightsSchema,
} from './messages.js';
import { RunConfigSchema } from './run-config.js';
import { safeParseMessage } from './validation.js';
import { PROTOCOL_VERSION, checkProtocolVersion } from './version.js';

const update = {
  type: 'update',
  runId: 'run-1',
  seq: 3,
  baseVersion: 10,
  steps: 1,
  samples: 32,
  trainLoss: 0.7,
  computeMs: 85,
  payload: new Uint8Array([1, 2, 3]),
};

describe('protocol version', () => {
  it('accepts its own version and explains a mismatch either way', () => {
    expect(checkProtocolVersion(PROTOCOL_VERSION)).toEqual({ ok: true });
    const older = checkProtocolVersion(PROTOCOL_VERSION - 1);
    const newer = checkProtocolVersion(PROTOCOL_VERSION + 1);
    expect(older.ok || newer.ok).toBe(false);
    if (!older.ok) expect(older.message).toMatch(/reload the page/);
    if (!newer.ok) expect(newer.message).toMatch(/coordinator needs an upgrade/);
  });
});

describe('BytesSchema', () => {
  it('takes a Node Buffer-like Uint8Array and a browser ArrayBuffer as the same bytes', () => {
    const buffer = new ArrayBuffer(4);
    new Uint8Array(buffer).set([9, 8, 7, 6]);
    const fromBuffer = BytesSchema.parse(buffer);
    expect(fromBuffer).toBeInstanceOf(Uint8Array);
    expect(fromBuffer.buffer).toBe(buffer); // a view, not a copy
    expect([...BytesSchema.parse(new Uint8Array(buffer, 1, 2))]).toEqual([8, 7]);
  });

  it('refuses JSON arrays and strings: binary never travels as JSON', () => {
    for (const input of [[1, 2, 3], 'AQID', { 0: 1 }, null, new Float32Array(2)]) {
      expect(BytesSchema.safeParse(input).success).toBe(false);
    }
  });
});

describe('worker messages', () => {
  it('parses a hello with defaults and refuses an unknown backend', () => {
    const hello = HelloSchema.parse({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      client: { kind: 'browser' },
      backend: 'webgpu',
    });
    expect(hello.client.description).toBe('');
    expect(hello.capabilities).toEqual({});
    const bad = safeParseMessage(HelloSchema, { ...hello, backend: 'cuda' }, 'hello');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.issues[0]?.path).toBe('backend');
  });

  it('parses an update push and names each bad field', () => {
    expect(UpdatePushSchema.parse(update).seq).toBe(3);
    const bad = safeParseMessage(
      UpdatePushSchema,
      { ...update, seq: -1, baseVersion: 1.5, trainLoss: Number.NaN, payload: [1] },
      'update',
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('invalid-message');
      expect(bad.error.issues.map((i) => i.path).sort()).toEqual([
        'baseVersion',
        'payload',
        'seq',
        'trainLoss',
      ]);
    }
  });

  it('requires fromVersion exactly for sparse patches and steps', () => {
    const base = {
      type: 'weights',
      runId: 'r',
      version: 5,
      epoch: 'e1',
      payload: new Uint8Array(1),
    };
    expect(WeightsSchema.safeParse({ ...base, encoding: 'dense' }).success).toBe(true);
    expect(WeightsSchema.safeParse({ ...base, encoding: 'sparse-patch' }).success).toBe(false);
    expect(
      WeightsSchema.safeParse({ ...base, encoding: 'sparse-patch', fromVersion: 4 }).success,
    ).toBe(true);
    expect(WeightsSchema.safeParse({ ...base, encoding: 'sparse-step' }).success).toBe(false);
    expect(
      WeightsSchema.safeParse({ ...base, encoding: 'sparse-step', fromVersion: 4 }).success,
    ).toBe(true);
    expect(
      WeightsSchema.safeParse({ ...base, encoding: 'sparse-delta', fromVersion: 4 }).success,
    ).toBe(false);
  });

  it('requires the restart epoch on every weights message', () => {
    const noEpoch = { type: 'weights', runId: 'r', version: 5, payload: new Uint8Array(1) };
    expect(WeightsSchema.safeParse({ ...noEpoch, encoding: 'dense' }).success).toBe(false);
    expect(
      WeightsSchema.safeParse({ ...noEpoch, encoding: 'sparse-patch', fromVersion: 4 }).success,
    ).toBe(false);
    expect(WeightsSchema.safeParse({ ...noEpoch, epoch: '', encoding: 'dense' }).success).toBe(
      false,
    );
    expect(
      WeightsSchema.safeParse({ ...noEpoch, epoch: 'x'.repeat(65), encoding: 'dense' }).success,
    ).toBe(false);
  });
});

describe('assignment', () => {
  const config = RunConfigSchema.parse({
    name: 'r',
    schedule: { kind: 'async' },
    stop: { maxVersions: 10 },
  });
  const assignment = {
    runId: 'run-1',
    runName: 'r',
    model: config.model,
    parameterCount: 101_770,
    dataset: { name: 'mnist', shardUrl: '/s/0', shardIndex: 0, shardCount: 1 },
    training: config.training,
    compression: config.compression,
    localSteps: 1,
    initialWeights: { seed: 1, sha256: 'ab'.repeat(32) },
  };

  it('carries the seed and the SHA-256 of the version-0 weights, checked', () => {
    expect(AssignmentSchema.parse(assignment).initialWeights.seed).toBe(1);
    for (const initialWeights of [
      { seed: 1, sha256: 'AB'.repeat(32) },
      { seed: 1, sha256: 'ab'.repeat(31) },
      { seed: -1, sha256: 'ab'.repeat(32) },
      { seed: 2 ** 32, sha256: 'ab'.repeat(32) },
      { sha256: 'ab'.repeat(32) },
    ]) {
      const bad = safeParseMessage(AssignmentSchema, { ...assignment, initialWeights }, 'a');
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.issues[0]?.path).toMatch(/^initialWeights/);
    }
    const without: Record<string, unknown> = { ...assignment };
    delete without.initialWeights;
    expect(safeParseMessage(AssignmentSchema, without, 'a').ok).toBe(false);
  });

  it("carries an uploaded set's shape, dtype and classes with name upload, and only then", () => {
    const upload = {
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      inputShape: [12, 12, 1],
      inputDtype: 'u8',
      classes: 3,
    };
    const on = (dataset: Record<string, unknown>) =>
      safeParseMessage(AssignmentSchema, { ...assignment, dataset }, 'a');
    expect(on({ ...assignment.dataset, name: 'upload', upload }).ok).toBe(true);
    for (const dataset of [
      { ...assignment.dataset, name: 'upload' },
      { ...assignment.dataset, upload },
      { ...assignment.dataset, name: 'upload', upload: { ...upload, classes: 1001 } },
      { ...assignment.dataset, name: 'upload', upload: { ...upload, inputShape: [1, 1, 1, 1, 1] } },
      { ...assignment.dataset, name: 'upload', upload: { ...upload, inputDtype: 'f16' } },
    ]) {
      const bad = on(dataset);
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.issues[0]?.path).toMatch(/^dataset\.upload/);
    }
  });

  it('takes a downstream density in (0, 1]', () => {
    const withDensity = (downstreamDensity: number) =>
      RunConfigSchema.safeParse({
        name: 'r',
        schedule: { kind: 'async' },
        stop: { maxVersions: 10 },
        compression: { downstreamDensity },
      }).success;
    expect(withDensity(0.02)).toBe(true);
    expect(withDensity(1)).toBe(true);
    expect(withDensity(0)).toBe(false);
    expect(withDensity(1.5)).toBe(false);
    expect(config.compression.downstreamDensity).toBeUndefined();
  });
});

describe('event tables', () => {
  const requestTables = { ...workerRequests, ...dashboardRequests };
  const noticeTables = { ...workerNotices, ...dashboardNotices };

  it("name each request after its message's type literal", () => {
    for (const [event, { request }] of Object.entries(requestTables)) {
      const type = (request.shape as { type: { value: string } }).type.value;
      expect(type).toBe(event);
    }
  });

  it('never throw on arbitrary input: every schema answers with a result', () => {
    const schemas = [
      ...Object.values(requestTables).flatMap(({ request, reply }) => [request, reply]),
      ...Object.values(noticeTables),
    ];
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom(...schemas), (input, schema) => {
        const result = safeParseMessage(schema, input, 'message');
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
