/** Options of one `vtrain-worker` invocation. */
export interface CliOptions {
  /** Base URL of the coordinator, absolute http(s). */
  readonly url: string;
  /** Worker processes to run, 1..{@link MAX_WORKER_COUNT}; more than 1 forks children. */
  readonly count: number;
  /** Fraction of wall time spent computing, in (0, 1]. */
  readonly dutyCycle: number;
  /** No periodic status line and no info messages; state changes, warnings and errors still print. */
  readonly quiet: boolean;
}

/** What the command line asks for. */
export type CliCommand =
  { readonly kind: 'run'; readonly options: CliOptions } | { readonly kind: 'help' };

/**
 * Most worker processes one invocation forks: each loads tfjs and the wasm
 * backend (about 100 MB), so a few per core is already plenty.
 */
export const MAX_WORKER_COUNT = 64;

/** The help text. */
export const CLI_USAGE = `Usage: vtrain-worker --url <coordinator URL> [--count N] [--duty-cycle D] [--quiet]

Trains for a vtrain coordinator from Node (tfjs on wasm, or cpu when wasm cannot).

  --url URL          the coordinator, e.g. http://localhost:3000 (required)
  --count N          run N worker processes, 1..${MAX_WORKER_COUNT} (default 1)
  --duty-cycle D     compute a fraction D of the time, 0 < D <= 1 (default 1)
  --quiet            print only state changes, warnings and errors
  --help             show this text

Ctrl-C stops every worker; each closes its connection cleanly.`;

/** Every way a command line can be wrong. */
export type CliArgsErrorCode =
  | 'missing-url'
  | 'invalid-url'
  | 'invalid-count'
  | 'invalid-duty-cycle'
  | 'unknown-option'
  | 'missing-value'
  | 'duplicate-option'
  | 'unexpected-argument';

/** A command-line mistake; the message says what to type instead. */
export class CliArgsError extends Error {
  override readonly name = 'CliArgsError';
  /** Which check failed. */
  readonly code: CliArgsErrorCode;

  /**
   * @param code - which check failed.
   * @param message - what was wrong, for the user.
   */
  constructor(code: CliArgsErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const VALUE_OPTIONS = ['url', 'count', 'duty-cycle'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function isValueOption(name: string): name is ValueOption {
  return (VALUE_OPTIONS as readonly string[]).includes(name);
}

/**
 * Parses the arguments after the script name. Accepts `--name value` and
 * `--name=value`, ignores a bare `--` (pnpm passes one through), and checks
 * every value: the URL must be absolute http(s), the count an integer in
 * [1, MAX_WORKER_COUNT], the duty cycle a number in (0, 1]. `--help` wins over
 * everything else.
 *
 * @throws {@link CliArgsError} naming the first problem.
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const values: Partial<Record<ValueOption, string>> = {};
  let quiet = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') continue;
    if (!token.startsWith('--')) {
      throw new CliArgsError('unexpected-argument', `unexpected argument "${token}"`);
    }
    const equals = token.indexOf('=');
    const name = token.slice(2, equals === -1 ? undefined : equals);
    if (name === 'help') {
      help = true;
      continue;
    }
    if (name === 'quiet') {
      if (equals !== -1) throw new CliArgsError('unexpected-argument', '--quiet takes no value');
      quiet = true;
      continue;
    }
    if (!isValueOption(name)) throw new CliArgsError('unknown-option', `unknown option --${name}`);
    if (values[name] !== undefined) {
      throw new CliArgsError('duplicate-option', `--${name} is given twice`);
    }
    let value: string | undefined;
    if (equals !== -1) {
      value = token.slice(equals + 1);
    } else {
      value = i + 1 < argv.length ? argv[i + 1] : undefined;
      i++;
    }
    if (value === undefined || value === '' || value.startsWith('--')) {
      throw new CliArgsError('missing-value', `--${name} needs a value`);
    }
    values[name] = value;
  }
  if (help) return { kind: 'help' };
  if (values.url === undefined) {
    throw new CliArgsError(
      'missing-url',
      'give the coordinator with --url, e.g. --url http://localhost:3000',
    );
  }
  return {
    kind: 'run',
    options: {
      url: checkUrl(values.url),
      count: values.count === undefined ? 1 : checkCount(values.count),
      dutyCycle: values['duty-cycle'] === undefined ? 1 : checkDutyCycle(values['duty-cycle']),
      quiet,
    },
  };
}

/**
 * The arguments a supervisor passes to each forked worker: the same options
 * with `--count 1`. `parseCliArgs(childArgs(o))` gives back `o` with count 1.
 */
export function childArgs(options: CliOptions): string[] {
  return [
    '--url',
    options.url,
    '--count',
    '1',
    '--duty-cycle',
    String(options.dutyCycle),
    ...(options.quiet ? ['--quiet'] : []),
  ];
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliArgsError(
      'invalid-url',
      `--url "${value}" is not a URL; give the coordinator's address with its scheme, e.g. http://localhost:3000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // "localhost:3000" parses as the scheme "localhost:": say what was probably meant.
    const hint = value.includes('://') ? `not ${url.protocol}//` : `did you mean http://${value}?`;
    throw new CliArgsError(
      'invalid-url',
      `--url "${value}" must start with http:// or https:// (${hint})`,
    );
  }
  return value;
}

function checkCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_WORKER_COUNT) {
    throw new CliArgsError(
      'invalid-count',
      `--count must be an integer from 1 to ${MAX_WORKER_COUNT}, got "${value}"`,
    );
  }
  return count;
}

function checkDutyCycle(value: string): number {
  const dutyCycle = Number(value);
  if (value.trim() === '' || !(dutyCycle > 0 && dutyCycle <= 1)) {
    throw new CliArgsError(
      'invalid-duty-cycle',
      `--duty-cycle must be a number with 0 < D <= 1, got "${value}"`,
    );
  }
  return dutyCycle;
}
