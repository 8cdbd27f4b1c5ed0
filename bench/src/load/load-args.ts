/** Options of one `pnpm load` invocation. */
export interface LoadOptions {
  /** Base URL of the coordinator, absolute http(s). */
  readonly url: string;
  /** Simulated volunteers, each its own socket.io connection and identity. */
  readonly clients: number;
  /** Mean ms between two updates of one volunteer (each wait drawn from [0.5, 1.5] x period). */
  readonly periodMs: number;
  /** Length of the measurement window, after every volunteer joined (or the join timed out). */
  readonly seconds: number;
  /** Child processes the volunteers are spread over. */
  readonly processes: number;
  /** The coordinator's process id, for its RSS (`/proc/PID/status`); found from the port when absent. */
  readonly pid: number | undefined;
  /** Result file; `bench/results/load-<clients>.json` when absent. */
  readonly out: string | undefined;
}

/** What the command line asks for. */
export type LoadCommand =
  { readonly kind: 'run'; readonly options: LoadOptions } | { readonly kind: 'help' };

/** Most volunteers one invocation simulates (the coordinator's default total is 20,000 connections). */
export const MAX_CLIENTS = 100_000;
/** Most child processes: each is one event loop with its share of the volunteers. */
export const MAX_PROCESSES = 64;
/** Volunteers per child process when `--processes` is not given. */
export const CLIENTS_PER_PROCESS = 125;

/** The help text. */
export const LOAD_USAGE = `Usage: pnpm load --url URL --clients N [--period MS] [--seconds S] [--processes P] [--pid PID] [--out FILE]

Simulated volunteers against a coordinator: real socket.io connections speaking
the worker protocol (hello, pull, sparse updates at the run's density, acks),
no tfjs. Prints joined, offered and applied updates/s, reject reasons, ack
latency p50/p99 and the coordinator's RSS; writes JSON to bench/results/.

  --url URL        the coordinator, e.g. http://127.0.0.1:3000 (required)
  --clients N      volunteers, 1..${MAX_CLIENTS} (required)
  --period MS      mean ms between two updates of one volunteer, 10..3600000 (default 2000)
  --seconds S      measurement window in seconds, after all joined, 1..86400 (default 30)
  --processes P    child processes to spread the volunteers over, 1..${MAX_PROCESSES}
                   (default one per ${CLIENTS_PER_PROCESS} volunteers, at most 8)
  --pid PID        the coordinator's process id, for its RSS (default: the process
                   listening on the URL's port, when it is on this machine)
  --out FILE       result JSON (default bench/results/load-<clients>.json)
  --help           show this text

The coordinator admits 256 connections and 500 new identities per address by
default (docs/api.md#limits); from one machine, start it for the test with
  WORKER_CONNECTIONS_PER_ADDRESS=N WORKER_CONNECT_BURST_PER_ADDRESS=N WORKER_IDENTITY_BURST_PER_ADDRESS=N pnpm start
Ctrl-C stops the volunteers, closes their connections and prints what was measured.`;

/** Every way a command line can be wrong. */
export type LoadArgsErrorCode =
  | 'missing-url'
  | 'invalid-url'
  | 'missing-clients'
  | 'invalid-clients'
  | 'invalid-period'
  | 'invalid-seconds'
  | 'invalid-processes'
  | 'invalid-pid'
  | 'invalid-out'
  | 'unknown-option'
  | 'missing-value'
  | 'duplicate-option'
  | 'unexpected-argument';

/** A command-line mistake; the message says what to type instead. */
export class LoadArgsError extends Error {
  override readonly name = 'LoadArgsError';

  /**
   * @param code - which check failed.
   * @param message - what was wrong, for the user.
   */
  constructor(
    readonly code: LoadArgsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const VALUE_OPTIONS = ['url', 'clients', 'period', 'seconds', 'processes', 'pid', 'out'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function isValueOption(name: string): name is ValueOption {
  return (VALUE_OPTIONS as readonly string[]).includes(name);
}

/**
 * Parses the arguments after the script name. Accepts `--name value` and
 * `--name=value`, ignores a bare `--` (pnpm passes one through), and checks
 * every value. `--help` wins over everything else.
 *
 * @throws {@link LoadArgsError} naming the first problem.
 */
export function parseLoadArgs(argv: readonly string[]): LoadCommand {
  const values: Partial<Record<ValueOption, string>> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') continue;
    if (!token.startsWith('--')) {
      throw new LoadArgsError('unexpected-argument', `unexpected argument "${token}"`);
    }
    const equals = token.indexOf('=');
    const name = token.slice(2, equals === -1 ? undefined : equals);
    if (name === 'help') {
      help = true;
      continue;
    }
    if (!isValueOption(name)) throw new LoadArgsError('unknown-option', `unknown option --${name}`);
    if (values[name] !== undefined) {
      throw new LoadArgsError('duplicate-option', `--${name} is given twice`);
    }
    let value: string | undefined;
    if (equals !== -1) {
      value = token.slice(equals + 1);
    } else {
      value = i + 1 < argv.length ? argv[i + 1] : undefined;
      i++;
    }
    if (value === undefined || value === '' || value.startsWith('--')) {
      throw new LoadArgsError('missing-value', `--${name} needs a value`);
    }
    values[name] = value;
  }
  if (help) return { kind: 'help' };
  if (values.url === undefined) {
    throw new LoadArgsError(
      'missing-url',
      'give the coordinator with --url, e.g. --url http://127.0.0.1:3000',
    );
  }
  if (values.clients === undefined) {
    throw new LoadArgsError('missing-clients', 'give the number of volunteers with --clients N');
  }
  const clients = integer(values.clients, 1, MAX_CLIENTS, 'invalid-clients', '--clients');
  const processes =
    values.processes === undefined
      ? Math.min(8, Math.ceil(clients / CLIENTS_PER_PROCESS))
      : integer(values.processes, 1, MAX_PROCESSES, 'invalid-processes', '--processes');
  if (processes > clients) {
    throw new LoadArgsError(
      'invalid-processes',
      `--processes ${processes} is more than --clients ${clients}: each process needs a volunteer`,
    );
  }
  return {
    kind: 'run',
    options: {
      url: checkUrl(values.url),
      clients,
      periodMs:
        values.period === undefined
          ? 2000
          : integer(values.period, 10, 3_600_000, 'invalid-period', '--period'),
      seconds:
        values.seconds === undefined
          ? 30
          : integer(values.seconds, 1, 86_400, 'invalid-seconds', '--seconds'),
      processes,
      pid:
        values.pid === undefined
          ? undefined
          : integer(values.pid, 1, 2 ** 31 - 1, 'invalid-pid', '--pid'),
      out: values.out === undefined ? undefined : checkOut(values.out),
    },
  };
}

function integer(
  value: string,
  min: number,
  max: number,
  code: LoadArgsErrorCode,
  flag: string,
): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new LoadArgsError(
      code,
      `${flag} must be a whole number from ${min} to ${max}, got "${value}"`,
    );
  }
  return n;
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LoadArgsError(
      'invalid-url',
      `--url "${value}" is not a URL; give the coordinator's address with its scheme, e.g. http://127.0.0.1:3000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // "localhost:3000" parses as the scheme "localhost:": say what was probably meant.
    const hint = value.includes('://') ? `not ${url.protocol}//` : `did you mean http://${value}?`;
    throw new LoadArgsError(
      'invalid-url',
      `--url "${value}" must start with http:// or https:// (${hint})`,
    );
  }
  return url.origin;
}

function checkOut(value: string): string {
  if (!value.endsWith('.json')) {
    throw new LoadArgsError('invalid-out', `--out must name a .json file, got "${value}"`);
  }
  return value;
}
