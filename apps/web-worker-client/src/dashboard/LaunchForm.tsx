import Form from '@rjsf/core';
import type { UiSchema } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';
import type { FieldIssue, RunConfigInput } from '@vtrain/protocol';
import { useMemo, useState } from 'react';
import { ApiError, createRun } from '../shared/api.js';
import { describeError, isUnauthorized } from './errors.js';
import { FormObjectTemplate } from './FormObjectTemplate.js';
import {
  INITIAL_RUN_CONFIG,
  issuesToErrorSchema,
  runConfigJsonSchema,
  runConfigUiSchema,
} from './launch-form-schema.js';

export interface LaunchFormProps {
  readonly token: string;
  readonly onUnauthorized: () => void;
  readonly onLaunched: (runId: string) => void;
}

const SCHEMA = runConfigJsonSchema();
const UI_SCHEMA = runConfigUiSchema(SCHEMA) as UiSchema<RunConfigInput>;
const VALIDATOR = customizeValidator<RunConfigInput>();
const TEMPLATES = { ObjectFieldTemplate: FormObjectTemplate };

/**
 * A form with every parameter of the run config, generated from the protocol's
 * schema. Validation is the coordinator's alone (`noValidate`, no HTML5
 * checks): it checks with the same schema plus what only it can (a custom
 * topology's fit), and each issue it returns is shown under its field and in
 * the list above, in its words.
 */
export function LaunchForm({ token, onUnauthorized, onLaunched }: LaunchFormProps) {
  const [formData, setFormData] = useState<RunConfigInput>(INITIAL_RUN_CONFIG);
  const [issues, setIssues] = useState<readonly FieldIssue[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const extraErrors = useMemo(() => issuesToErrorSchema(issues), [issues]);

  const submit = (config: RunConfigInput): void => {
    setBusy(true);
    setError(undefined);
    setIssues([]);
    createRun(token, config).then(
      (runId) => {
        setBusy(false);
        onLaunched(runId);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(`The run was not launched: ${describeError(failure)}`);
        if (failure instanceof ApiError) setIssues(failure.issues);
        if (isUnauthorized(failure)) onUnauthorized();
      },
    );
  };

  return (
    <section className="card launch-form">
      <h2>Launch a run</h2>
      <p className="muted">
        Every parameter of the run config, with the coordinator&apos;s defaults. Only the name,
        schedule and stop rule are required.
      </p>
      {error === undefined ? null : (
        <div className="error" role="alert" data-testid="launch-error">
          <p>{error}</p>
          {issues.length === 0 ? null : (
            <ul className="issues">
              {issues.map((issue, i) => (
                <li
                  key={`${issue.path}-${String(i)}`}
                  data-testid="launch-issue"
                  data-path={issue.path}
                >
                  <code>{issue.path === '' ? '(config)' : issue.path}</code>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <Form<RunConfigInput>
        schema={SCHEMA}
        uiSchema={UI_SCHEMA}
        validator={VALIDATOR}
        templates={TEMPLATES}
        formData={formData}
        extraErrors={extraErrors}
        // The coordinator is the one validator (see above); rjsf has no other switch for that yet.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        noValidate
        noHtml5Validate
        showErrorList={false}
        disabled={busy}
        onChange={(event) => {
          if (event.formData !== undefined) setFormData(event.formData);
        }}
        onSubmit={(event) => {
          if (event.formData !== undefined) submit(event.formData);
        }}
      />
    </section>
  );
}
