import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { RunConfigSchema, type FieldIssue } from '@vtrain/protocol';
import * as z from 'zod';

/*
 * The launch form's "Advanced" section is generated from the protocol's
 * RunConfigSchema, so every parameter the coordinator accepts has a field,
 * with its default and bounds, and a new parameter appears in the form
 * without touching the dashboard.
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The property whose `const` tells the options of a `oneOf` apart (`kind`, `rule`, `shape`). */
function discriminatorOf(options: readonly unknown[]): string | undefined {
  const first = options[0];
  if (!isObject(first) || !isObject(first.properties)) return undefined;
  return Object.keys(first.properties).find((key) =>
    options.every(
      (option) =>
        isObject(option) &&
        isObject(option.properties) &&
        isObject(option.properties[key]) &&
        'const' in option.properties[key],
    ),
  );
}

function constOf(option: unknown, key: string): unknown {
  if (!isObject(option) || !isObject(option.properties)) return undefined;
  const property = option.properties[key];
  return isObject(property) ? property.const : undefined;
}

/**
 * Marks the schema of a union option, whose selector already names it, so the
 * form's object template leaves out the option's own heading.
 */
export const UNION_OPTION = 'x-union-option';

/** `batchSize` -> `batch size`: labels in words, while paths in issues keep the keys. */
export function humanize(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/**
 * Makes zod's discriminated unions read well in the form: each option is
 * titled by its discriminator value (rjsf would say "Option 1"), carries that
 * value as its default (so switching the selector fills it in), and the
 * parent names the discriminator so rjsf matches options by it.
 */
function annotate(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(annotate);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = annotate(value);
  if (isObject(out.properties)) {
    const titled: JsonObject = {};
    for (const [key, value] of Object.entries(out.properties)) {
      titled[key] =
        isObject(value) && value.title === undefined ? { title: humanize(key), ...value } : value;
    }
    out.properties = titled;
  }
  const options = out.oneOf;
  if (Array.isArray(options)) {
    const key = discriminatorOf(options);
    if (key !== undefined) {
      out.discriminator = { propertyName: key };
      out.oneOf = options.map((option: unknown) => {
        if (!isObject(option) || !isObject(option.properties)) return option;
        const value = constOf(option, key);
        const property = option.properties[key];
        return {
          ...option,
          title: String(value),
          [UNION_OPTION]: true,
          properties: {
            ...option.properties,
            [key]: { ...(property as JsonObject), default: value },
          },
        };
      });
    }
  }
  return out;
}

/** Title of the "absent" option of an optional object ({@link optionalObjectsAsSwitches}). */
export const ABSENT_OPTION = 'off';

/** Title of the "absent" option of an optional union whose absence means a default. */
export const DEFAULT_OPTION = 'default';

function isObjectSchema(node: unknown): boolean {
  return isObject(node) && node.type === 'object';
}

/**
 * An optional object without a default (`contributionCap`) becomes a choice
 * between `off` (null, the default) and `on` (the object). rjsf fills every
 * object whose fields have defaults, so the object as it is would always be
 * sent, switching on what the run config leaves off; `null` is dropped before
 * sending ({@link withoutNulls}).
 */
function optionalObjectsAsSwitches(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(optionalObjectsAsSwitches);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = optionalObjectsAsSwitches(value);
  if (isObject(out.properties)) {
    const required = Array.isArray(out.required) ? out.required : [];
    const properties: JsonObject = {};
    for (const [key, value] of Object.entries(out.properties)) {
      const optional = isObject(value) && !('default' in value) && !required.includes(key);
      if (optional && value.type === 'object') {
        properties[key] = {
          title: humanize(key),
          default: null,
          anyOf: [
            { title: ABSENT_OPTION, type: 'null' },
            { ...value, title: 'on', [UNION_OPTION]: true },
          ],
        };
      } else if (optional && Array.isArray(value.anyOf) && value.anyOf.some(isObjectSchema)) {
        // A union with an object (`contributionCap`: an object or 'off'): absent is its
        // own first option, the schedule's default, so rjsf fills nothing in.
        properties[key] = {
          title: humanize(key),
          default: null,
          anyOf: [
            { title: DEFAULT_OPTION, type: 'null' },
            ...(value.anyOf as unknown[]).map((option): unknown =>
              isObject(option) && option.type === 'object'
                ? { ...option, title: 'on', [UNION_OPTION]: true }
                : option,
            ),
          ],
        };
      } else {
        properties[key] = value;
      }
    }
    out.properties = properties;
  }
  return out;
}

/** JSON Schema (draft-07, what rjsf's ajv validator speaks) of what a researcher may submit. */
export function runConfigJsonSchema(): RJSFSchema {
  const schema = z.toJSONSchema(RunConfigSchema, {
    io: 'input',
    target: 'draft-07',
    unrepresentable: 'any',
  }) as JsonObject;
  delete schema.$schema;
  return annotate(optionalObjectsAsSwitches(schema)) as RJSFSchema;
}

/** The form's data without the `null`s that stand for an absent optional object. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== null) out[key] = withoutNulls(entry);
  }
  return out;
}

/**
 * Hides each union's discriminator field (the option selector above it already
 * shows and sets it), recursing through objects and union options.
 */
export function runConfigUiSchema(schema: RJSFSchema): UiSchema {
  const ui: UiSchema = {};
  const walk = (node: unknown): UiSchema => {
    const out: UiSchema = {};
    if (!isObject(node)) return out;
    if (isObject(node.properties)) {
      for (const [key, value] of Object.entries(node.properties)) {
        const child = walk(value);
        if (Object.keys(child).length > 0) out[key] = child;
      }
    }
    if (Array.isArray(node.oneOf) && isObject(node.discriminator)) {
      const key = String(node.discriminator.propertyName);
      out.oneOf = node.oneOf.map((option: unknown) => ({
        ...walk(option),
        [key]: { 'ui:widget': 'hidden' },
      }));
    }
    return out;
  };
  Object.assign(ui, walk(schema));
  // The run's name and its data set are chosen at the top of the form, above the generated
  // fields, and the form's own button launches: the generated part shows neither.
  ui.name = { 'ui:widget': 'hidden' };
  const dataset = (ui.dataset ?? {}) as UiSchema;
  ui.dataset = { ...dataset, name: { 'ui:widget': 'hidden' } };
  ui['ui:submitButtonOptions'] = { norender: true };
  return ui;
}

/**
 * The server's field issues (dotted paths such as `schedule.deadline.slack`)
 * as rjsf's nested error schema, so each message shows under its field; an
 * empty path belongs to the form as a whole.
 */
export function issuesToErrorSchema(issues: readonly FieldIssue[]): ErrorSchema {
  const root: JsonObject = {};
  for (const issue of issues) {
    let node = root;
    for (const segment of issue.path === '' ? [] : issue.path.split('.')) {
      const next = node[segment];
      node = isObject(next) ? next : (node[segment] = {});
    }
    const errors = Array.isArray(node.__errors) ? (node.__errors as string[]) : [];
    node.__errors = [...errors, issue.message];
  }
  return root as ErrorSchema;
}
