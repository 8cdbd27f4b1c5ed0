import validator from '@rjsf/validator-ajv8';
import { getDefaultFormState } from '@rjsf/utils';
import { RUN_PRESETS, RunConfigSchema } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import {
  humanize,
  issuesToErrorSchema,
  runConfigJsonSchema,
  runConfigUiSchema,
  withoutNulls,
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

  it.each(RUN_PRESETS.map((p) => [p.name, p] as const))(
    'fills the form defaults into the %s preset, a config the protocol accepts',
    (_name, preset) => {
      const formData: unknown = withoutNulls(
        getDefaultFormState(validator, schema, { name: 'x', ...preset.config }),
      );
      const parsed = RunConfigSchema.safeParse(formData);
      expect(parsed.error?.issues).toBeUndefined();
      // The defaults fill what the preset leaves out, and never override what it sets.
      expect(parsed.data).toEqual(RunConfigSchema.parse({ name: 'x', ...preset.config }));
    },
  );

  it('hides the fields chosen at the top of the form, and its own submit button', () => {
    const ui = runConfigUiSchema(schema);
    expect(ui.name).toEqual({ 'ui:widget': 'hidden' });
    expect((ui.dataset as Record<string, unknown>).name).toEqual({ 'ui:widget': 'hidden' });
    expect(ui['ui:submitButtonOptions']).toEqual({ norender: true });
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
