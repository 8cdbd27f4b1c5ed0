import { describe, expect, it } from 'vitest';
import { clientFamilies } from './client-description.js';

describe('clientFamilies', () => {
  it('reduces a user agent to browser family with major version and OS family', () => {
    const cases: [string, { browser: string; os: string }][] = [
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36',
        { browser: 'Chrome 131', os: 'Linux' },
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
        { browser: 'Safari 17', os: 'macOS' },
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
        { browser: 'Firefox 133', os: 'Windows' },
      ],
    ];
    for (const [ua, families] of cases) expect(clientFamilies('browser', ua)).toEqual(families);
  });

  it('reads the headless worker line, and echoes nothing it does not recognise', () => {
    expect(clientFamilies('node', 'vtrain-worker, Node v20.19.4 on linux x64')).toEqual({
      browser: 'Node.js 20',
      os: 'Linux',
    });
    expect(clientFamilies('node', 'my laptop, alice@example.org')).toEqual({
      browser: 'Node.js',
      os: '',
    });
    expect(clientFamilies('browser', '')).toEqual({ browser: '', os: '' });
    expect(clientFamilies('browser', 'alice@example.org <script>')).toEqual({
      browser: '',
      os: '',
    });
  });
});
