import { CodecError } from './codec-error.js';

// TextEncoder / TextDecoder are WHATWG globals present in every browser, Web Worker and
// Node >= 11, but not in the ES2023 lib this package compiles against (no DOM, no Node
// types). Module-scoped declarations of the slice we use avoid clashing with either lib.
declare const TextEncoder: new () => { encode(input: string): Uint8Array };
declare const TextDecoder: new (
  label: 'utf-8',
  options: { fatal: boolean; ignoreBOM: boolean },
) => { decode(input: Uint8Array): string };

const encoder = new TextEncoder();
// fatal: malformed bytes throw instead of becoming U+FFFD (a silent rename).
// ignoreBOM: a leading U+FEFF is part of the name, not stripped (strip would break round trips).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 bytes of `text`. Throws `CodecError('bad-utf8')` if `text` holds a lone surrogate,
 * which `TextEncoder` would silently replace by U+FFFD (detected by decoding back).
 */
export function encodeUtf8(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (decoder.decode(bytes) !== text) {
    throw new CodecError('bad-utf8', `string ${JSON.stringify(text)} has a lone surrogate`);
  }
  return bytes;
}

/**
 * Decodes well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF)
 * and throws `CodecError('bad-utf8')` otherwise, reporting `offset` as the fault position.
 */
export function decodeUtf8(bytes: Uint8Array, offset: number): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CodecError('bad-utf8', `${bytes.length} bytes are not valid UTF-8`, offset);
  }
}
