/**
 * One figure of the contribute page. `data-value` carries the raw number
 * (empty when unknown) so tests and scripts read it without parsing text.
 */
export function Stat(props: {
  readonly id: string;
  readonly label: string;
  readonly value: number | string | undefined;
  /** How to show the value; default: the value itself, or a dash. */
  readonly text?: string;
}) {
  return (
    <div className="stat" data-testid={props.id} data-value={props.value ?? ''}>
      <span className="label">{props.label}</span>
      <span className="value">
        {props.text ?? (props.value === undefined ? '—' : String(props.value))}
      </span>
    </div>
  );
}
