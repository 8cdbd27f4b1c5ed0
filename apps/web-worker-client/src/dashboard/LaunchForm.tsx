import Form from '@rjsf/core';
import { getDefaultFormState, type UiSchema } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';
import {
  DATASET_NAMES,
  RUN_PRESETS,
  type FieldIssue,
  type RunConfigInput,
  type RunPresetName,
} from '@vtrain/protocol';
import { useEffect, useMemo, useState, type SyntheticEvent } from 'react';
import { ApiError, createRun } from '../shared/api.js';
import { describeError, isUnauthorized } from './errors.js';
import { FormObjectTemplate } from './FormObjectTemplate.js';
import {
  configForPreset,
  DATASET_LABELS,
  datasetChoiceOf,
  fetchUploadedDatasets,
  INITIAL_PRESET,
  initialLaunchConfig,
  launchIssues,
  messagesAt,
  MODEL_CHOICES,
  modelKindOf,
  needsAdvanced,
  presetNamed,
  sameDataset,
  withDataset,
  withModelKind,
  type DatasetChoice,
  type UploadedDataset,
} from './launch-form-model.js';
import {
  issuesToErrorSchema,
  runConfigJsonSchema,
  runConfigUiSchema,
  withoutNulls,
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

const BUILTIN_DATASETS: readonly DatasetChoice[] = DATASET_NAMES.map((name) => ({
  source: 'builtin',
  name,
}));

function datasetKey(choice: DatasetChoice): string {
  return choice.source === 'builtin' ? choice.name : `upload:${choice.id}`;
}

/**
 * The launch form, read top to bottom: the run's name, then what a researcher
 * chooses (the data set, the model, the recipe: a named preset with the one
 * line that says when to use it), then "Advanced", collapsed: every other
 * parameter of the run config, generated from the protocol's schema and
 * filled in from the recipe, reset to it whenever the recipe changes.
 *
 * The config is checked with the protocol's schema before it is sent, then by
 * the coordinator (which also checks what only it can, such as a custom
 * topology's fit); each issue is listed above the form and shown beside its
 * field, and Advanced opens when one of its fields is at fault.
 */
export function LaunchForm({ token, onUnauthorized, onLaunched }: LaunchFormProps) {
  const [preset, setPreset] = useState<RunPresetName>(INITIAL_PRESET);
  const [formData, setFormData] = useState<RunConfigInput>(initialLaunchConfig);
  const [issues, setIssues] = useState<readonly FieldIssue[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [uploaded, setUploaded] = useState<readonly UploadedDataset[]>([]);
  const extraErrors = useMemo(() => issuesToErrorSchema(issues), [issues]);

  useEffect(() => {
    let live = true;
    void fetchUploadedDatasets().then((list) => {
      if (live) setUploaded(list);
    });
    return () => {
      live = false;
    };
  }, [token]);

  const dataset = datasetChoiceOf(formData);
  const modelKind = modelKindOf(formData);
  const datasetChoices: readonly DatasetChoice[] = [
    ...BUILTIN_DATASETS,
    ...uploaded.map((entry): DatasetChoice => ({ source: 'upload', id: entry.id })),
  ];
  const datasetLabel = (choice: DatasetChoice): string =>
    choice.source === 'builtin'
      ? DATASET_LABELS[choice.name]
      : `${uploaded.find((entry) => entry.id === choice.id)?.label ?? choice.id} (uploaded)`;

  const showIssues = (found: readonly FieldIssue[], message: string): void => {
    setIssues(found);
    setError(message);
    if (needsAdvanced(found)) setAdvancedOpen(true);
  };

  const choosePreset = (name: RunPresetName): void => {
    setPreset(name);
    setFormData(
      configForPreset(presetNamed(name), {
        name: formData.name,
        dataset,
        model: modelKind,
      }),
    );
    setIssues([]);
    setError(undefined);
  };

  const submit = (event: SyntheticEvent<HTMLFormElement>): void => {
    event.preventDefault();
    // What the fields show, defaults included, is what is sent.
    const config = withoutNulls(getDefaultFormState(VALIDATOR, SCHEMA, formData)) as RunConfigInput;
    const found = launchIssues(config);
    if (found.length > 0) {
      showIssues(found, 'The run was not launched: fix the fields below.');
      return;
    }
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
        showIssues(
          failure instanceof ApiError ? failure.issues : [],
          `The run was not launched: ${describeError(failure)}`,
        );
        if (isUnauthorized(failure)) onUnauthorized();
      },
    );
  };

  const nameError = messagesAt(issues, 'name');
  const datasetError = messagesAt(issues, 'dataset.name') ?? messagesAt(issues, 'dataset.id');
  const chosen = presetNamed(preset);

  return (
    <section className="card launch-form">
      <h2>Launch a run</h2>
      <p className="muted">
        Name the run and pick a data set, a model and a recipe. Every other setting is under
        Advanced, filled in from the recipe.
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
      <form noValidate onSubmit={submit} data-testid="launch-form">
        <div className="form-group launch-name">
          <label className="control-label" htmlFor="launch-name">
            Run name
          </label>
          <input
            id="launch-name"
            type="text"
            data-testid="launch-name"
            placeholder="e.g. sparse async, 16 workers"
            value={formData.name}
            disabled={busy}
            aria-invalid={nameError !== undefined}
            onChange={(event) => {
              setFormData({ ...formData, name: event.target.value });
            }}
          />
          {nameError === undefined ? null : <p className="text-danger">{nameError}</p>}
        </div>

        <fieldset className="choices" data-testid="launch-dataset" disabled={busy}>
          <legend>Data set</legend>
          {datasetChoices.map((choice) => (
            <label key={datasetKey(choice)} className="choice">
              <input
                type="radio"
                name="launch-dataset"
                value={datasetKey(choice)}
                data-testid="dataset-option"
                checked={sameDataset(choice, dataset)}
                onChange={() => {
                  setFormData(withDataset(formData, choice));
                }}
              />
              {datasetLabel(choice)}
            </label>
          ))}
          {uploaded.length === 0 ? (
            <p className="muted small" data-testid="no-uploads">
              No uploaded data sets.
            </p>
          ) : null}
          {datasetError === undefined ? null : <p className="text-danger">{datasetError}</p>}
        </fieldset>

        <fieldset className="choices" data-testid="launch-model" disabled={busy}>
          <legend>Model</legend>
          {MODEL_CHOICES.map((model) => (
            <label key={model.kind} className="choice">
              <input
                type="radio"
                name="launch-model"
                value={model.kind}
                data-testid="model-option"
                checked={modelKind === model.kind}
                onChange={() => {
                  setFormData(withModelKind(formData, model.kind, chosen));
                }}
              />
              <strong>{model.label}</strong> <span className="muted">{model.line}</span>
            </label>
          ))}
        </fieldset>

        <fieldset className="presets" data-testid="launch-presets" disabled={busy}>
          <legend>Recipe</legend>
          {RUN_PRESETS.map((option) => (
            <label
              key={option.name}
              className={`preset-card${option.name === preset ? ' selected' : ''}`}
              data-testid="preset-option"
              data-preset={option.name}
            >
              <input
                type="radio"
                name="launch-preset"
                value={option.name}
                checked={option.name === preset}
                onChange={() => {
                  choosePreset(option.name);
                }}
              />
              <span className="preset-title">
                {option.title} <code>{option.name}</code>
              </span>
              <span className="preset-line">{option.whenToUse}</span>
            </label>
          ))}
        </fieldset>

        <details
          className="advanced"
          data-testid="launch-advanced"
          open={advancedOpen}
          onToggle={(event) => {
            setAdvancedOpen(event.currentTarget.open);
          }}
        >
          <summary>
            Advanced: every setting, filled in from <strong>{chosen.title}</strong>
          </summary>
          <Form<RunConfigInput>
            tagName="div"
            schema={SCHEMA}
            uiSchema={UI_SCHEMA}
            validator={VALIDATOR}
            templates={TEMPLATES}
            formData={formData}
            extraErrors={extraErrors}
            // Checked on submit, with the protocol's schema and then the coordinator's (see above).
            // eslint-disable-next-line @typescript-eslint/no-deprecated
            noValidate
            noHtml5Validate
            showErrorList={false}
            disabled={busy}
            onChange={(event) => {
              if (event.formData !== undefined) setFormData(event.formData);
            }}
          />
        </details>

        <button type="submit" className="primary" data-testid="launch-submit" disabled={busy}>
          {busy ? 'Launching…' : 'Launch run'}
        </button>
      </form>
    </section>
  );
}
