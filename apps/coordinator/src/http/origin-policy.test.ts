import { describe, expect, it } from 'vitest';
import { hostPolicy, ownHostNames } from './origin-policy.js';

describe('hostPolicy', () => {
  const allowed = hostPolicy(ownHostNames('vtrain.lan', ['https://vtrain.example.org']));

  it('allows IP literals, localhost names, HOST and the names of ORIGINS', () => {
    for (const host of [
      '127.0.0.1:3000',
      '[::1]:3000',
      '192.168.1.5',
      'localhost:3000',
      'app.localhost',
      'vtrain.lan:3000',
      'VTRAIN.example.org',
    ]) {
      expect(allowed(host), host).toBe(true);
    }
  });

  it('refuses other names (DNS rebinding), malformed values and a missing Host', () => {
    for (const host of [
      'attacker.example:3000',
      '127.0.0.1.attacker.example',
      'localhost.attacker.example',
      'user@127.0.0.1',
      '127.0.0.1/path',
      '',
      undefined,
    ]) {
      expect(allowed(host), String(host)).toBe(false);
    }
  });
});
