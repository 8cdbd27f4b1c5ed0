import validator from '@rjsf/validator-ajv8';
import { getDefaultFormState } from '@rjsf/utils';
import { RunConfigSchema } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import {
  humanize,
  INITIAL_RUN_CONFIG,
  issuesToErrorSchema,
  runConfigJsonSchema,
  runConfigUiSchema,
} from './launch-form-schema.js';

describe('runConfigJsonSchema', () => {
  const schema = runConfigJsonSchema();

  it('has a field for every top-level parameter of the run config', () => {
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(
      Object.keys(RunConfigSchema.shape).sort(),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'schedule', 'stop']));
  });

  it('titles union options by their discriminator and names it', () => {
    const scheduleSchema = schema.properties?.schedule as {
      discriminator: { propertyName: string };
      oneOf: { title: string }[];
    };
    expect(scheduleSchema.discriminator).toEqual({ propertyName: 'kind' });
    expect(scheduleSchema.oneOf.map((o) => o.title)).toEqual([
      'async',
      'sync',
      'hybrid',
      'cyclic',
      'local-sgd',
    ]);
  });

  it('fills the form defaults into a config the protocol accepts', () => {
    const formData: unknown = getDefaultFormState(validator, schema, {
      ...INITIAL_RUN_CONFIG,
      name: 'x',
    });
    const parsed = RunConfigSchema.safeParse(formData);
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data?.dataset.shards).toBe(16);
    expect(parsed.data?.compression.density).toBe(0.01);
  });

  it('hides the discriminator fields of union options', () => {
    const ui = runConfigUiSchema(schema);
    const scheduleUi = ui.schedule as { oneOf: Record<string, unknown>[] };
    expect(scheduleUi.oneOf[2]?.kind).toEqual({ 'ui:widget': 'hidden' });
    expect(scheduleUi.oneOf[2]?.threshold).toMatchObject({
      oneOf: expect.arrayContaining([
        expect.objectContaining({ shape: { 'ui:widget': 'hidden' } }),
      ]) as unknown,
    });
  });
});

describe('humanize', () => {
  it('labels fields in words', () => {
    expect(humanize('batchSize')).toBe('batch size');
    expect(humanize('maxMs')).toBe('max ms');
    expect(humanize('seed')).toBe('seed');
  });
});

describe('issuesToErrorSchema', () => {
  it('nests dotted paths and keeps every message, root issues at the top', () => {
    expect(
      issuesToErrorSchema([
        { path: 'schedule.deadline.slack', message: 'Too small: expected >=1' },
        { path: 'schedule.deadline.slack', message: 'second' },
        { path: 'name', message: 'Too small' },
        { path: '', message: 'whole config' },
      ]),
    ).toEqual({
      __errors: ['whole config'],
      name: { __errors: ['Too small'] },
      schedule: { deadline: { slack: { __errors: ['Too small: expected >=1', 'second'] } } },
    });
  });
});
