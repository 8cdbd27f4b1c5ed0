import type * as z from 'zod';

/** One problem found in a message or a run config, addressed by its field path. */
export interface FieldIssue {
  /** Dotted path of the offending field (`schedule.deadline.slack`); empty for the root. */
  readonly path: string;
  readonly message: string;
}

/**
 * Thrown (or returned) when a value fails its schema. `issues` names every
 * offending field, so an HTTP 400 or a socket reject can show all of them at
 * once instead of one per round trip.
 */
export class ValidationError extends Error {
  readonly code = 'invalid-message';
  constructor(
    readonly what: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super(`invalid ${what}: ${issues.map(formatIssue).join('; ')}`);
    this.name = 'ValidationError';
  }
}

function formatIssue(issue: FieldIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/** Result of {@link safeParseMessage}: the parsed value or every field issue. */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ValidationError };

/**
 * Validates untrusted input against a schema. Never throws: the coordinator
 * calls it on every arriving message and answers a typed rejection.
 */
export function safeParseMessage<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): ParseResult<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  return { ok: false, error: new ValidationError(what, issues) };
}

/** Like {@link safeParseMessage} but throws the {@link ValidationError}. */
export function parseMessage<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = safeParseMessage(schema, input, what);
  if (!result.ok) throw result.error;
  return result.value;
}
