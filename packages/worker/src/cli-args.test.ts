import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  childArgs,
  CliArgsError,
  MAX_WORKER_COUNT,
  parseCliArgs,
  type CliOptions,
} from './cli-args.js';

function errorOf(argv: string[]): CliArgsError {
  try {
    parseCliArgs(argv);
  } catch (error) {
    if (error instanceof CliArgsError) return error;
    throw error;
  }
  throw new Error(`parseCliArgs accepted ${JSON.stringify(argv)}`);
}

describe('parseCliArgs', () => {
  it('fills the defaults: one worker, full duty cycle, not quiet', () => {
    expect(parseCliArgs(['--url', 'http://localhost:3000'])).toEqual({
      kind: 'run',
      options: { url: 'http://localhost:3000', count: 1, dutyCycle: 1, quiet: false },
    });
  });

  it('reads every option, in both spellings, and skips the "--" pnpm passes through', () => {
    expect(
      parseCliArgs([
        '--',
        '--url=https://train.example.org/',
        '--count',
        '3',
        '--duty-cycle=0.5',
        '--quiet',
      ]),
    ).toEqual({
      kind: 'run',
      options: { url: 'https://train.example.org/', count: 3, dutyCycle: 0.5, quiet: true },
    });
  });

  it('answers --help whatever else is there', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['--count', '2', '--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [[], 'missing-url'],
    [['--count', '2'], 'missing-url'],
    [['--url'], 'missing-value'],
    [['--url', '--quiet'], 'missing-value'],
    [['--url='], 'missing-value'],
    [['--url', 'localhost:3000'], 'invalid-url'],
    [['--url', 'not a url'], 'invalid-url'],
    [['--url', 'ws://localhost:3000'], 'invalid-url'],
    [['--url', 'http://a', '--count', '0'], 'invalid-count'],
    [['--url', 'http://a', '--count', '1.5'], 'invalid-count'],
    [['--url', 'http://a', '--count', '-2'], 'invalid-count'],
    [['--url', 'http://a', '--count', String(MAX_WORKER_COUNT + 1)], 'invalid-count'],
    [['--url', 'http://a', '--count', 'three'], 'invalid-count'],
    [['--url', 'http://a', '--duty-cycle', '0'], 'invalid-duty-cycle'],
    [['--url', 'http://a', '--duty-cycle', '1.5'], 'invalid-duty-cycle'],
    [['--url', 'http://a', '--duty-cycle', 'NaN'], 'invalid-duty-cycle'],
    [['--url', 'http://a', '--duty-cycle', ' '], 'invalid-duty-cycle'],
    [['--url', 'http://a', '--url', 'http://b'], 'duplicate-option'],
    [['--url', 'http://a', '--workers', '2'], 'unknown-option'],
    [['--url', 'http://a', 'extra'], 'unexpected-argument'],
    [['--url', 'http://a', '--quiet=yes'], 'unexpected-argument'],
  ])('refuses %j with %s', (argv, code) => {
    expect(errorOf(argv).code).toBe(code);
  });

  it('tells how to write a URL that lacks its scheme', () => {
    expect(errorOf(['--url', 'localhost:3000']).message).toContain('http://localhost:3000');
  });

  it('accepts the bounds of count and duty cycle', () => {
    const run = (argv: string[]) => {
      const command = parseCliArgs(['--url', 'http://a', ...argv]);
      if (command.kind !== 'run') throw new Error('expected run');
      return command.options;
    };
    expect(run(['--count', String(MAX_WORKER_COUNT)]).count).toBe(MAX_WORKER_COUNT);
    expect(run(['--duty-cycle', '1']).dutyCycle).toBe(1);
    expect(run(['--duty-cycle', '1e-3']).dutyCycle).toBe(0.001);
  });
});

describe('childArgs', () => {
  it('round-trips through parseCliArgs with a count of 1', () => {
    const options = fc.record({
      url: fc.webUrl({ validSchemes: ['http', 'https'] }),
      count: fc.integer({ min: 1, max: MAX_WORKER_COUNT }),
      dutyCycle: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
      quiet: fc.boolean(),
    });
    fc.assert(
      fc.property(options, (o: CliOptions) => {
        expect(parseCliArgs(childArgs(o))).toEqual({ kind: 'run', options: { ...o, count: 1 } });
      }),
    );
  });
});
