/**
 * One child process of the load tool: runs its share of the simulated
 * volunteers ({@link Volunteer}) on its own event loop, so the generator is
 * not one loop's bottleneck. Started by `load-run.ts` with `fork` and one
 * JSON argument ({@link ChildConfig}); reports a `status` message every
 * second (the counts since the previous one), starts counting on `measure`,
 * and on `stop` (or when the parent goes away) closes every connection,
 * sends its last counts and `done`, and exits.
 */
import {
  emptyDelta,
  type ChildConfig,
  type ChildMessage,
  type ParentMessage,
} from './load-types.js';
import { Volunteer, type VolunteerTally } from './volunteer.js';

/** Joins one process runs at once: a burst of handshakes would only queue at the coordinator. */
const CONCURRENT_JOINS = 8;
const REPORT_EVERY_MS = 1000;

const config = JSON.parse(process.argv[2] ?? '') as ChildConfig;
const tally: VolunteerTally = {
  counting: false,
  delta: emptyDelta(),
  joined: 0,
  settled: 0,
  refused: {},
  run: undefined,
};

function send(message: ChildMessage, then?: () => void): void {
  if (process.connected && process.send !== undefined) process.send(message, () => then?.());
  else then?.();
}

function report(): void {
  const { delta } = tally;
  tally.delta = emptyDelta();
  send({
    type: 'status',
    joined: tally.joined,
    settled: tally.settled,
    refused: { ...tally.refused },
    delta,
    cpuMs: (() => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    })(),
    ...(tally.run === undefined ? {} : { run: tally.run }),
  });
}

const volunteers = Array.from(
  { length: config.clients },
  (_, c) =>
    new Volunteer(
      config.url,
      1 + config.processIndex * 1_000_003 + c,
      config.periodMs,
      tally,
      Math.random,
    ),
);
const runs: Promise<void>[] = [];
let stopping = false;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  tally.counting = false;
  clearInterval(reporter);
  for (const volunteer of volunteers) volunteer.stop();
  await Promise.all(runs);
  report();
  // Exit once the last counts are handed over: nothing of this process is needed after.
  send({ type: 'done' }, () => process.exit(0));
}

// Ctrl-C reaches the whole process group: the parent decides when to stop and says so.
process.on('SIGINT', () => undefined);
process.on('message', (message: ParentMessage) => {
  if (message.type === 'measure') {
    tally.delta = emptyDelta();
    tally.counting = true;
  } else {
    void stop();
  }
});
process.on('disconnect', () => {
  void stop();
});
const reporter = setInterval(report, REPORT_EVERY_MS);

// Volunteers join a few at a time; each then runs on its own until stopped.
let next = 0;
async function joiner(): Promise<void> {
  while (next < volunteers.length && !stopping) {
    const volunteer = volunteers[next++];
    runs.push(volunteer.run());
    await volunteer.settled;
  }
}
await Promise.all(Array.from({ length: CONCURRENT_JOINS }, joiner));
