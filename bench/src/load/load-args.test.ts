import { describe, expect, it } from 'vitest';
import { LoadArgsError, MAX_CLIENTS, parseLoadArgs, type LoadArgsErrorCode } from './load-args.js';

function code(argv: string[]): LoadArgsErrorCode | undefined {
  try {
    parseLoadArgs(argv);
    return undefined;
  } catch (error) {
    if (error instanceof LoadArgsError) return error.code;
    throw error;
  }
}

describe('parseLoadArgs', () => {
  it('reads every option, in both spellings, and ignores the -- pnpm passes', () => {
    expect(
      parseLoadArgs([
        '--',
        '--url',
        'http://127.0.0.1:3000/',
        '--clients=1000',
        '--period',
        '500',
        '--seconds=45',
        '--processes',
        '4',
        '--pid',
        '1234',
        '--out',
        '/tmp/x.json',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        url: 'http://127.0.0.1:3000',
        clients: 1000,
        periodMs: 500,
        seconds: 45,
        processes: 4,
        pid: 1234,
        out: '/tmp/x.json',
      },
    });
  });

  it('fills in the defaults: period 2 s, 30 s, one process per 125 volunteers up to 8', () => {
    const parse = (clients: number) =>
      parseLoadArgs(['--url', 'https://example.org', '--clients', String(clients)]);
    expect(parse(200)).toEqual({
      kind: 'run',
      options: {
        url: 'https://example.org',
        clients: 200,
        periodMs: 2000,
        seconds: 30,
        processes: 2,
        pid: undefined,
        out: undefined,
      },
    });
    expect(parse(1)).toMatchObject({ options: { processes: 1 } });
    expect(parse(10_000)).toMatchObject({ options: { processes: 8 } });
  });

  it('answers help before checking anything else', () => {
    expect(parseLoadArgs(['--clients', 'many', '--help'])).toEqual({ kind: 'help' });
  });

  it.each<[string[], LoadArgsErrorCode]>([
    [['--clients', '10'], 'missing-url'],
    [['--url', 'localhost:3000', '--clients', '10'], 'invalid-url'],
    [['--url', 'not a url', '--clients', '10'], 'invalid-url'],
    [['--url', 'ftp://host', '--clients', '10'], 'invalid-url'],
    [['--url', 'http://h'], 'missing-clients'],
    [['--url', 'http://h', '--clients', '0'], 'invalid-clients'],
    [['--url', 'http://h', '--clients', '1.5'], 'invalid-clients'],
    [['--url', 'http://h', '--clients', String(MAX_CLIENTS + 1)], 'invalid-clients'],
    [['--url', 'http://h', '--clients', '10', '--period', '5'], 'invalid-period'],
    [['--url', 'http://h', '--clients', '10', '--period', '-100'], 'invalid-period'],
    [['--url', 'http://h', '--clients', '10', '--seconds', '0'], 'invalid-seconds'],
    [['--url', 'http://h', '--clients', '10', '--seconds', 'ten'], 'invalid-seconds'],
    [['--url', 'http://h', '--clients', '10', '--processes', '0'], 'invalid-processes'],
    [['--url', 'http://h', '--clients', '2', '--processes', '3'], 'invalid-processes'],
    [['--url', 'http://h', '--clients', '10', '--pid', 'self'], 'invalid-pid'],
    [['--url', 'http://h', '--clients', '10', '--out', 'result.txt'], 'invalid-out'],
    [['--url', 'http://h', '--clients', '10', '--rate', '3'], 'unknown-option'],
    [['--url', 'http://h', '--clients'], 'missing-value'],
    [['--url', 'http://h', '--clients='], 'missing-value'],
    [['--url', 'http://h', '--clients', '1', '--clients', '2'], 'duplicate-option'],
    [['--url', 'http://h', '--clients', '1', 'extra'], 'unexpected-argument'],
  ])('%j is refused as %s', (argv, expected) => {
    expect(code(argv)).toBe(expected);
  });

  it('says what was wrong and what to type', () => {
    expect(() => parseLoadArgs(['--url', 'localhost:3000', '--clients', '1'])).toThrow(
      /did you mean http:\/\/localhost:3000/,
    );
    expect(() => parseLoadArgs(['--url', 'http://h', '--clients', '0'])).toThrow(
      '--clients must be a whole number from 1 to 100000, got "0"',
    );
  });
});
