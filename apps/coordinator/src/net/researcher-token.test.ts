import { describe, expect, it } from 'vitest';
import {
  FailedTokenThrottle,
  MIN_TOKEN_LENGTH,
  ResearcherTokenError,
  checkResearcherToken,
} from './researcher-token.js';

describe('checkResearcherToken', () => {
  it(`accepts ${MIN_TOKEN_LENGTH}+ printable characters and refuses the rest`, () => {
    expect(checkResearcherToken('a'.repeat(MIN_TOKEN_LENGTH), 'test')).toBe('a'.repeat(16));
    for (const bad of [
      '',
      'a'.repeat(MIN_TOKEN_LENGTH - 1),
      'sixteen chars ok',
      'tab\there-abcdefgh',
      'é'.repeat(20),
    ]) {
      expect(() => checkResearcherToken(bad, 'test')).toThrow(ResearcherTokenError);
    }
  });
});

describe('FailedTokenThrottle', () => {
  it('allows 10 wrong tokens at once per address, then 10 a minute', () => {
    let now = 0;
    const throttle = new FailedTokenThrottle(() => now);
    for (let i = 0; i < 10; i++) {
      expect(throttle.allows('a')).toBe(true);
      throttle.failed('a');
    }
    expect(throttle.allows('a')).toBe(false);
    expect(throttle.retryAfterSeconds('a')).toBe(6);
    expect(throttle.allows('b')).toBe(true); // per address
    now += 6_000;
    expect(throttle.allows('a')).toBe(true);
    throttle.failed('a');
    expect(throttle.allows('a')).toBe(false);
    now += 60_000;
    expect(throttle.retryAfterSeconds('a')).toBe(0);
  });

  it('forgets the oldest addresses first when too many are remembered', () => {
    const throttle = new FailedTokenThrottle(() => 0, 1, 1);
    throttle.failed('first');
    expect(throttle.allows('first')).toBe(false);
    for (let i = 0; i < 10_000; i++) throttle.failed(`other-${i}`);
    expect(throttle.allows('first')).toBe(true);
    expect(throttle.allows('other-9999')).toBe(false);
  });
});
