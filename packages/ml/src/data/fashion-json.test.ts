import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFashionClassJson } from './fashion-json.js';

const encoder = new TextEncoder();
const bytesOf = (text: string) => encoder.encode(text);
const row = (fill: (i: number) => number) => Array.from({ length: 784 }, (_, i) => fill(i));

describe('parseFashionClassJson', () => {
  it('reads rows into one flat array and skips empty rows', () => {
    const rows = [row((i) => i % 256), [], row((i) => 255 - (i % 256))];
    const parsed = parseFashionClassJson(bytesOf(JSON.stringify({ data: rows })));
    expect(parsed.count).toBe(2);
    expect(parsed.emptyRowsSkipped).toBe(1);
    expect(parsed.images.length).toBe(2 * 784);
    expect(parsed.images[0]).toBe(0);
    expect(parsed.images[300]).toBe(300 % 256); // 44
    expect(parsed.images[784]).toBe(255);
    expect(parsed.images[784 + 783]).toBe(255 - (783 % 256)); // 255 - 15 = 240
  });

  it('agrees with JSON.parse on arbitrary rows and whitespace', () => {
    const pixelRow = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 784, maxLength: 784 });
    const maybeEmpty = fc.oneof(
      { weight: 4, arbitrary: pixelRow },
      { weight: 1, arbitrary: fc.constant([]) },
    );
    fc.assert(
      fc.property(
        fc.array(maybeEmpty, { maxLength: 5 }),
        fc.constantFrom(undefined, 1, '\t'),
        (rows, indent) => {
          const text = JSON.stringify({ data: rows }, null, indent);
          const parsed = parseFashionClassJson(bytesOf(`\r\n${text}\n`));
          const full = rows.filter((r) => r.length > 0);
          expect(parsed.count).toBe(full.length);
          expect(parsed.emptyRowsSkipped).toBe(rows.length - full.length);
          expect(Array.from(parsed.images)).toEqual(full.flat());
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rejects every departure from the expected grammar with a code', () => {
    const valid = row(() => 1).join(',');
    const cases: [string, string][] = [
      ['{"pixels":[]}', 'bad-json'],
      ['[]', 'bad-json'],
      [`{"data":[[${valid},1]]}`, 'bad-row'],
      [
        `{"data":[[${row(() => 1)
          .slice(1)
          .join(',')}]]}`,
        'bad-row',
      ],
      [`{"data":[[256${valid.slice(1)}]]}`, 'pixel-out-of-range'],
      [`{"data":[[-1${valid.slice(1)}]]}`, 'bad-json'],
      [`{"data":[[1.5${valid.slice(1)}]]}`, 'bad-json'],
      [`{"data":[[${valid}]]} x`, 'bad-json'],
      [`{"data":[[${valid}]]`, 'bad-json'],
      [`{"data":[[${valid}],]}`, 'bad-json'],
      [`{"data":[[${valid}`, 'bad-json'],
      ['', 'bad-json'],
    ];
    for (const [text, code] of cases) {
      expect(() => parseFashionClassJson(bytesOf(text)), text.slice(0, 30)).toThrow(
        expect.objectContaining({ code }),
      );
    }
    expect(parseFashionClassJson(bytesOf('{"data":[]}')).count).toBe(0);
  });
});
