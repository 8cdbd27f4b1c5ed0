import { CodecError } from './codec-error.js';

/**
 * A bounds-checked little-endian cursor over untrusted bytes. Every read checks the
 * remaining length first and throws `CodecError('truncated')`, so a short buffer can never
 * surface as a `RangeError` from `DataView`.
 */
export class ByteReader {
  /** The input, as given (its `byteOffset` matters for zero-copy views). */
  readonly bytes: Uint8Array;
  /** Position of the next byte to read, relative to the start of `bytes`. */
  offset = 0;
  private readonly view: DataView;

  /** @param bytes - the untrusted input; it is read, never copied or modified */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left after the cursor: `bytes.length - offset`. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Throws `truncated` unless `byteCount` more bytes are available for `what`. */
  require(byteCount: number, what: string): void {
    if (this.remaining < byteCount) {
      throw new CodecError(
        'truncated',
        `${what} needs ${byteCount} bytes, ${this.remaining} left`,
        this.offset,
      );
    }
  }

  /** Reads one unsigned byte. */
  u8(what: string): number {
    this.require(1, what);
    return this.bytes[this.offset++];
  }

  /** Reads a little-endian uint16. */
  u16(what: string): number {
    this.require(2, what);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  /** Reads a little-endian uint32. */
  u32(what: string): number {
    this.require(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** Reads a little-endian IEEE 754 binary32. */
  f32(what: string): number {
    this.require(4, what);
    const value = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** Returns a view (no copy) of the next `byteCount` bytes and advances past them. */
  slice(byteCount: number, what: string): Uint8Array {
    this.require(byteCount, what);
    const start = this.offset;
    this.offset += byteCount;
    return this.bytes.subarray(start, this.offset);
  }
}
