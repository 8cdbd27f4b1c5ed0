import type { PeerCandidate, PeerRepetition, PeerResult } from '../peer/peer-types.js';
import { provenanceText, type Recorded } from '../provenance.js';
import { bytes, pct, table } from './format.js';

/** Median, min and max of some values (the median of an even count is the mean of the middle two). */
function mmm(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[n - 1] };
}

function spreadText(values: readonly number[], show: (v: number) => string): string {
  const s = mmm(values);
  if (!Number.isFinite(s.median)) return 'n/a';
  return values.length === 1 ? show(s.median) : `${show(s.median)} (${show(s.min)}–${show(s.max)})`;
}

function socketIo(r: PeerRepetition): { up: number; down: number } {
  const ws = r.bytes.byConnection['socket.io-websocket'];
  const polling = r.bytes.byConnection['socket.io-polling'];
  return { up: ws.up + polling.up, down: ws.down + polling.down };
}

/** Time to the target, or "not reached (best x)". */
function timeText(c: PeerCandidate, target: number): string {
  const reached = c.repetitions
    .map((r) => r.secondsToTarget)
    .filter((s): s is number => s !== null);
  const missed = c.repetitions.length - reached.length;
  if (reached.length === 0) {
    const best = Math.max(...c.repetitions.map((r) => r.bestAccuracy));
    return `not reached (best ${pct(best, 2)})`;
  }
  const text = spreadText(reached, (v) => `${v.toFixed(1)} s`);
  return missed === 0
    ? text
    : `${text}; ${missed} of ${c.repetitions.length} did not reach ${pct(target, 1)}`;
}

/**
 * The headline of a peer result: the first candidate's median time to the
 * target (undefined unless every repetition reached it) and median socket.io
 * bytes, both directions.
 */
export function peerHeadline(r: PeerResult): { seconds: number | undefined; bytes: number } {
  const reps = r.candidates[0]?.repetitions ?? [];
  const reached = reps.map((x) => x.secondsToTarget).filter((t): t is number => t !== null);
  const reachedAll = reps.length > 0 && reached.length === reps.length;
  return {
    seconds: reachedAll ? mmm(reached).median : undefined,
    bytes: mmm(reps.map((x) => socketIo(x).up + socketIo(x).down)).median,
  };
}

/** The repetition with the median time (unreached ones count as the cap). */
function medianRepetition(c: PeerCandidate): PeerRepetition | undefined {
  const sorted = [...c.repetitions].sort((a, b) => a.seconds - b.seconds);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** "Against DISCO": the peer's figures beside ours, from `bench/results/peer.json`. */
export function peerSection(r: Recorded<PeerResult> | undefined): string[] {
  if (!r) return ['## Against DISCO', '', 'Not run in this suite (`bench:peer`).', ''];
  const lines = ['## Against DISCO', '', r.description, ''];
  lines.push(
    `Measured at ${provenanceText(r.provenance)}. Target ${pct(r.targetAccuracy, 1)} on the full MNIST test set, cap ${r.capSeconds} s, ${r.workers} worker processes. Figures: median (min–max) over the repetitions.`,
    '',
  );
  for (const c of r.candidates) {
    const reps = c.repetitions;
    const up = reps.map((x) => socketIo(x).up);
    const down = reps.map((x) => socketIo(x).down);
    const total = reps.map((x) => socketIo(x).up + socketIo(x).down);
    const perWorker = reps.flatMap((x) => x.workers.map((w) => w.samplesPerSecond));
    const compute = reps.flatMap((x) => x.workers.map((w) => w.computeSamplesPerSecond));
    const http = reps.map((x) => x.bytes.byConnection.http.down + x.bytes.byConnection.http.up);
    lines.push(
      `### ${c.label}, ${reps.length} repetition${reps.length === 1 ? '' : 's'}`,
      '',
      '```json',
      JSON.stringify(c.config),
      '```',
      '',
      table(
        ['', r.peer.name, 'ours', 'goal'],
        [
          [
            `time to ${pct(r.targetAccuracy, 1)}`,
            `${r.peer.seconds} s`,
            timeText(c, r.targetAccuracy),
            `≤ ${r.goal.seconds} s`,
          ],
          [
            'best accuracy in the measured time',
            pct(r.peer.accuracy, 1),
            spreadText(
              reps.map((x) => x.bestAccuracy),
              (v) => pct(v, 2),
            ),
            '',
          ],
          ['bytes up (socket.io)', bytes(r.peer.bytesUp), spreadText(up, bytes), ''],
          ['bytes down (socket.io)', bytes(r.peer.bytesDown), spreadText(down, bytes), ''],
          [
            'bytes both ways (socket.io)',
            bytes(r.peer.bytesUp + r.peer.bytesDown),
            spreadText(total, bytes),
            `≤ ${bytes(r.goal.bytes)}`,
          ],
          ['plain HTTP (shard downloads), not socket.io', 'n/a', spreadText(http, bytes), ''],
          [
            'samples/s per worker (wall, from the start)',
            'n/a',
            spreadText(perWorker, (v) => v.toFixed(0)),
            '',
          ],
          [
            'samples/s per worker (own compute time)',
            'n/a',
            spreadText(compute, (v) => v.toFixed(0)),
            '',
          ],
        ],
      ),
      '',
      `Peer: ${r.peer.setup}.`,
      '',
    );
    const median = medianRepetition(c);
    if (median) lines.push(...bytesBreakdown(median));
  }
  return lines;
}

/** Where the socket.io bytes of one repetition went, and what the coordinator's counters saw. */
function bytesBreakdown(r: PeerRepetition): string[] {
  const rows = Object.entries(r.bytes.byMessage)
    .sort(([, a], [, b]) => b.bytes.up + b.bytes.down - (a.bytes.up + a.bytes.down))
    .map(([kind, t]) => [
      kind,
      bytes(t.bytes.up),
      String(t.frames.up),
      bytes(t.bytes.down),
      String(t.frames.down),
    ]);
  const s = socketIo(r);
  const { bytesIn, bytesOut } = r.bytes.coordinator;
  const curve = r.evaluations
    .map((e) => `v${e.version} ${pct(e.accuracy, 1)} at ${e.seconds.toFixed(0)} s`)
    .join(', ');
  return [
    `Full-test-set accuracy of the median repetition, by model version: ${curve}.`,
    '',
    `Where the socket.io bytes of the median repetition went (WebSocket frames parsed in the proxy, headers included; \`X:ack\` is the acknowledgement of event X; \`X\` alone is its text frame, the JSON envelope, and \`X, binary F\` its binary attachments by codec: dense weights or sparse vectors, i.e. updates and weights patches):`,
    '',
    table(['message', 'bytes up', 'frames up', 'bytes down', 'frames down'], rows),
    '',
    `The coordinator's own counters (payload bytes of updates in, of weights replies out) said ${bytes(bytesIn)} in and ${bytes(bytesOut)} out over the same time; the socket carried ${bytes(s.up)} up and ${bytes(s.down)} down (${bytes(s.up - bytesIn)} and ${bytes(s.down - bytesOut)} more: JSON envelopes, WebSocket and socket.io framing, handshakes, pings, version notices).`,
    '',
  ];
}
