import type { BackendProbeReport } from '../engine/engine-messages.js';
import { formatMs, type BackendMeasurement } from '../engine/pick-backend.js';

function measuredText(m: BackendMeasurement): string {
  switch (m.outcome) {
    case 'measured':
      return `${formatMs(m.msPerStep)} ms per step (median of ${m.steps}; first step ${formatMs(m.firstStepMs)} ms)`;
    case 'over-budget':
      return `not timed: the first step took ${formatMs(m.firstStepMs)} ms, over the probe's budget`;
    case 'failed':
      return `unavailable: ${m.reason}`;
  }
}

function when(report: BackendProbeReport): string {
  const at = new Date(report.measuredAt).toLocaleString();
  return report.source === 'cached' ? `measured on an earlier visit (${at})` : 'measured just now';
}

/**
 * How the engine chose its compute backend for the run's model: the time of a
 * training step on each backend this browser has, or that the URL forced one;
 * and a button to measure again (the result is remembered per model and
 * batch size, so a volunteer waits for the probe once).
 */
export function BackendProbe(props: {
  readonly probing: string | undefined;
  readonly report: BackendProbeReport | undefined;
  readonly onMeasureAgain: () => void;
}) {
  const { probing, report } = props;
  if (probing === undefined && report === undefined) return null;
  const source = probing !== undefined ? 'probing' : report?.source;
  return (
    <section
      className="probe"
      data-testid="backend-probe"
      data-source={source}
      data-choice={probing === undefined ? report?.choice.name : undefined}
    >
      {probing !== undefined ? (
        <p>Measuring the compute backends on {probing}: a few training steps on each…</p>
      ) : report?.source === 'forced' ? (
        <p>The backend is forced by the page address ({report.choice.reason}); nothing measured.</p>
      ) : (
        report !== undefined && (
          <>
            <p>
              Time of one training step of {report.label}, {when(report)}:{' '}
              <button type="button" data-testid="measure-again" onClick={props.onMeasureAgain}>
                Measure again
              </button>
            </p>
            <table>
              <tbody>
                {report.measurements.map((m) => (
                  <tr
                    key={m.name}
                    data-testid="probe-row"
                    data-backend={m.name}
                    data-outcome={m.outcome}
                    data-ms={m.outcome === 'measured' ? m.msPerStep : undefined}
                    className={m.name === report.choice.name ? 'chosen' : undefined}
                  >
                    <th scope="row">{m.name}</th>
                    <td>{measuredText(m)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )
      )}
    </section>
  );
}
